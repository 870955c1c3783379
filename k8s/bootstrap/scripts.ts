/**
 * Builds the remote commands that run the bootstrap scripts. The command line is a short loader;
 * the script itself (lib.sh in front of it) travels on stdin ahead of the script's settings:
 *
 *   stdin = <byte length of the script> "\n" <script> "\n" <settings: KEY=<base64> lines>
 *
 * The loader reads the length line, then exactly that many bytes (GNU `head -c` never reads past
 * them from a pipe), checks them against the sha256 written into the loader, and runs them as
 * `bash -c SCRIPT NAME ARGS...` with the rest of stdin (the settings) left for the script. So the
 * node needs nothing installed first, no command line is longer than a few hundred characters
 * (pulumi-command quotes the whole command line in its error message, so a script on the command
 * line buried the script's own FAILED:/try: lines under thousands of characters of itself), and a
 * script change still changes the command line (its sha256) in the plan even where the stdin is
 * secret. pulumi-command keeps stdin in the resource's state and sends it to `create`, `update`
 * and `delete` alike (provider/pkg/provider/remote/commandOutputs.go, v1.2.1), so a command with
 * only a `delete` script carries that script on its stdin too.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

const SCRIPTS_DIR = path.join(__dirname, "scripts");

export type ScriptName =
  | "wait-host"
  | "rancher"
  | "kubeadm"
  | "kubeconfig"
  | "label-node"
  | "wait-ready"
  | "rollout"
  | "remove-node"
  | "uninstall"
  | "etcd-restore"
  | "etcd-snapshot"
  | "etcd-drill"
  | "recovery"
  | "kernel-hold";

/** Fragments a script uses, put after lib.sh in front of it: the S3 requests of the backup tools. */
const INCLUDES: Partial<Record<ScriptName, string[]>> = { "etcd-snapshot": ["s3"], recovery: ["s3"] };

const read = (name: string) => fs.readFileSync(path.join(SCRIPTS_DIR, `${name}.sh`), "utf8");

/** lib.sh, the fragments it includes, then the script: the program text `bash -c` runs. */
export function scriptText(name: ScriptName): string {
  return withLib([...(INCLUDES[name] ?? []).map(read), read(name)].join("\n"));
}

/** lib.sh in front of a script body, without trailing newlines (bash's `$(...)` drops them on the node too). */
const withLib = (body: string) => `${read("lib")}\n${body}`.replace(/\n+$/, "");

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * The loader run by `sudo bash -c`: $0 is the script's name, $1... its arguments. It fails with
 * the program's FAILED: line when stdin does not begin with the script it was written for.
 */
export function loader(text: string): string {
  return [
    `set -u; IFS= read -r n && s="$(head -c "$n")" && h="$(printf %s "$s" | sha256sum)" && [ "\${h%% *}" = ${sha256(text)} ]`,
    ` || { echo "[oci-k8s] FAILED: $0: stdin does not begin with its script" >&2; exit 1; }; exec bash -c "$s" "$0" "$@"`,
  ].join("");
}

/** The stdin of a loader command: the script, then the settings (encodeSettings) it reads. */
function loaderStdin(text: string, settings: string): string {
  return `${Buffer.byteLength(text, "utf8")}\n${text}\n${settings}`;
}

/** `sudo bash -c '<loader>' <name> <args...>`; the script goes on stdin (scriptStdin). */
export function scriptCommand(name: ScriptName, ...args: string[]): string {
  return ["sudo", "bash", "-c", shellQuote(loader(scriptText(name))), name, ...args.map(shellQuote)].join(" ");
}

/** The stdin of scriptCommand(name, ...): the script, then its settings. */
export function scriptStdin(name: ScriptName, settings = ""): string {
  return loaderStdin(scriptText(name), settings);
}

/** The same for a script of another layer (its text given): lib.sh in front, run with sudo. */
export function libScriptCommand(name: string, body: string, ...args: string[]): string {
  return ["sudo", "bash", "-c", shellQuote(loader(withLib(body))), name, ...args.map(shellQuote)].join(" ");
}

/** The stdin of libScriptCommand(name, body, ...): lib.sh and the body, then the settings. */
export function libScriptStdin(body: string, settings = ""): string {
  return loaderStdin(withLib(body), settings);
}

/** Settings for stdin: one KEY=<base64 of value> line each, so any value passes unharmed. */
export function encodeSettings(settings: Readonly<Record<string, string>>): string {
  return Object.entries(settings)
    .map(([key, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw new Error(`bad settings key ${key}`);
      return `${key}=${Buffer.from(value, "utf8").toString("base64")}\n`;
    })
    .join("");
}

/** The settings part of a stdin: what follows the script when it begins with one (scriptStdin). */
export function settingsPart(stdin: string): string {
  const header = /^(\d+)\n/.exec(stdin);
  if (!header) return stdin;
  const bytes = Buffer.from(stdin, "utf8");
  return bytes.subarray(header[0].length + Number(header[1])).toString("utf8");
}

/** The script part of a stdin that begins with one (scriptStdin), or undefined. */
export function scriptPart(stdin: string): string | undefined {
  const header = /^(\d+)\n/.exec(stdin);
  if (!header) return undefined;
  const bytes = Buffer.from(stdin, "utf8");
  return bytes.subarray(header[0].length, header[0].length + Number(header[1])).toString("utf8");
}

/** Reads settings lines (as printed by `kubeadm.sh join-material`, or a stdin after its script) back into values. */
export function decodeSettings(text: string): Record<string, string> {
  return Object.fromEntries(
    settingsPart(text)
      .split("\n")
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => {
        const at = line.indexOf("=");
        return [line.slice(0, at), Buffer.from(line.slice(at + 1), "base64").toString("utf8")];
      }),
  );
}
