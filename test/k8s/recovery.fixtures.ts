/** Shared by the recovery tests: the operator's recovery certificate and key, made by openssl as docs/operations.md shows. */
import * as fs from "fs";
import * as path from "path";
import { must, tempDir } from "../tools";

/** The command docs/operations.md gives (Disaster recovery, step 1), with its files in `dir`. */
export const MAKE_PAIR = [
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-384",
  "-noenc",
  "-keyout",
  "recovery.key",
  "-out",
  "recovery.crt",
  "-days",
  "36500",
  "-subj",
  "/CN=oci-k8s-recovery",
];

/** A recovery pair in a new directory: { dir, cert (PEM text), key (path) }. */
export function recoveryPair(): { dir: string; cert: string; key: string } {
  const dir = tempDir("recovery-pair");
  must("sh", ["-c", `cd "${dir}" && openssl ${MAKE_PAIR.join(" ")} 2>/dev/null`]);
  return { dir, cert: fs.readFileSync(path.join(dir, "recovery.crt"), "utf8"), key: path.join(dir, "recovery.key") };
}

let shared: string | undefined;
/** One certificate for the graph tests (its key unused). */
export const recoveryCertificate = (): string => (shared ??= recoveryPair().cert);
