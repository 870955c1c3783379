/** Shared by the recovery tests: the operator's recovery pair (made as docs/operations.md shows), hosts with logging shims, the loopback bucket. */
import * as fs from "fs";
import * as path from "path";
import { RESTORED_PKI_FILES } from "../../config/backups";
import { encodeSettings, scriptText } from "../../k8s/bootstrap/scripts";
import { must, run, Run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";
import { S3_SERVER, start, until } from "./etcd.fixtures";

const DOC = fs.readFileSync(path.join(__dirname, "../../docs/operations.md"), "utf8");

/** The one command in backticks in docs/operations.md that begins with `start`: the tests run what the page says. */
export function docCommand(start: string): string {
  const found = [...DOC.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((c) => c.startsWith(start));
  if (found.length !== 1) throw new Error(`docs/operations.md has ${found.length} commands beginning with ${start}`);
  return found[0];
}

/** A recovery pair made by the page's command (Once, step 1) in a new directory: { dir, cert (PEM text), key (path) }. */
export function recoveryPair(): { dir: string; cert: string; key: string } {
  const dir = tempDir("recovery-pair");
  must("sh", ["-c", `cd "${dir}" && ${docCommand("openssl req -x509 ")} 2>/dev/null`]);
  return { dir, cert: fs.readFileSync(path.join(dir, "recovery.crt"), "utf8"), key: path.join(dir, "recovery.key") };
}

let shared: string | undefined;
/** One certificate for the graph tests (its key unused). */
export const recoveryCertificate = (): string => (shared ??= recoveryPair().cert);

/** kubeadm's CA and service-account files, as restoreKubeadmPki holds them. */
/** A stack's complete backup bucket keys (Object Storage's S3 API), the recovery certificate included. */
export const stackBucket = () => ({
  etcdBackupBucket: "oci-k8s-etcd",
  etcdBackupEndpoint: "mynamespace.compat.objectstorage.eu-frankfurt-1.oraclecloud.com",
  etcdBackupRegion: "eu-frankfurt-1",
  etcdBackupAccessKey: "AccessKeyForTheBucket",
  etcdBackupSecretKey: "SecretKeyForTheBucketThatMustNotLeak",
  etcdBackupRecoveryCertificate: recoveryCertificate(),
});

export const PKI_FILES = RESTORED_PKI_FILES.map((f) => f.replace(/^etc\/kubernetes\/pki\//, ""));

/**
 * restoreKubeadmPki's value for a directory holding etc/kubernetes/pki/...: base64 of a tar.gz of
 * `files` (default PKI_FILES), made with the command docs/operations.md gives.
 */
export function pkiValue(dir: string, files = PKI_FILES): string {
  const members = files.map((f) => `etc/kubernetes/pki/${f}`).join(" ");
  return must("sh", ["-c", `tar -czf - -C "${dir}" ${members} | base64 -w0`]);
}

/** A directory with stand-in files for each of `files` under etc/kubernetes/pki (content: "<file> of <tag>"). */
export function standInPki(tag: string, files = PKI_FILES): string {
  const dir = tempDir(`pki-${tag}`);
  for (const f of files) {
    const file = path.join(dir, "etc/kubernetes/pki", f);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${f} of ${tag}\n`, { mode: 0o600 });
  }
  return dir;
}

export const S3_KEY = "S3SecretKeyThatMustNeverBeLogged";
export const TOKEN = "K10abcdef0123456789::server:ClusterTokenThatMustNeverBeLogged";
export const SEALED_KEY = "SealedSecretsPrivateKeyThatMustNeverBeLogged";
export const ENCRYPTION_KEY = "c2VjcmV0Ym94S2V5VGhhdE11c3ROZXZlckJlTG9nZ2Vk";
/** What the fake kubectl answers for the Sealed Secrets keys: one key Secret, as a List. */
export const SEALED_LIST = `apiVersion: v1
items:
- apiVersion: v1
  data:
    tls.crt: Y2VydA==
    tls.key: ${Buffer.from(SEALED_KEY).toString("base64")}
  kind: Secret
  metadata:
    labels:
      sealedsecrets.bitnami.com/sealed-secrets-key: active
    name: sealed-secrets-key8x2lz
    namespace: kube-system
  type: kubernetes.io/tls
kind: List
`;

/** The operator's decryption, the page's command (Rebuilding, step 2), of BUNDLE with KEY into DEST. */
export const DECRYPT = (bundle: string, key: string, dest: string) => {
  const command = docCommand("openssl cms -decrypt ");
  for (const part of ["-in recovery-<host>-<time>.cms ", "-inkey recovery.key ", "-C recovered"])
    if (!command.includes(part)) throw new Error(`the page's decryption lacks ${part}`);
  return command
    .replace("-in recovery-<host>-<time>.cms ", `-in ${bundle} `)
    .replace("-inkey recovery.key ", `-inkey ${key} `)
    .replace("-C recovered", `-C ${dest}`);
};

/** The loopback S3 endpoint, one per suite, with its store. */
export async function s3(dir: string, ip: string): Promise<{ endpoint: string; store: string }> {
  const store = path.join(dir, "s3");
  fs.mkdirSync(store);
  fs.writeFileSync(path.join(dir, "s3.js"), S3_SERVER);
  start(process.execPath, [path.join(dir, "s3.js"), ip, "AKIDTEST", S3_KEY, "eu-frankfurt-1", store]);
  await until("the S3 endpoint", () => fs.existsSync(path.join(store, "port")));
  return { endpoint: `${ip}:${fs.readFileSync(path.join(store, "port"), "utf8")}`, store };
}

/**
 * A host: its root, and a bin of shims that log every command line (to argv.log) before running
 * the real openssl, tar, gzip, curl and python3, plus the fakes a test adds.
 */
export function host(dir: string, name: string) {
  const root = path.join(dir, name);
  const bin = path.join(dir, `${name}-bin`);
  fs.mkdirSync(root);
  fs.mkdirSync(bin);
  const argv = path.join(dir, "argv.log");
  for (const tool of ["openssl", "tar", "gzip", "curl", "python3"]) {
    const real = run("sh", ["-c", `command -v ${tool}`], { env: { PATH: "/usr/bin:/bin" } }).stdout.trim();
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${argv}"\nexec ${real} "$@"\n`, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(bin, "hostname"), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
  const env = {
    PATH: `${bin}:${systemTools(SCRIPT_TOOLS)}`,
    OCI_K8S_ROOT: root,
    OCI_K8S_RETRY_DELAY: "0",
    OCI_K8S_S3_SCHEME: "http",
  };
  const install = (script: "recovery" | "etcd-snapshot" | "etcd-restore", settings: Record<string, string>): Run =>
    run("bash", ["-c", scriptText(script), script, "install"], {
      env,
      input: encodeSettings({ SCRIPT: scriptText(script), ...settings }),
    });
  const tool = (name: string, args: string[], extra: Record<string, string> = {}): Run =>
    run(path.join(root, "usr/local/sbin", name), args, { env: { ...env, ...extra }, timeout: 40_000 });
  return { root, bin, env, install, tool, argv: () => (fs.existsSync(argv) ? fs.readFileSync(argv, "utf8") : "") };
}

export const bucket = (endpoint: string) => ({
  SCHEDULE: "0 */6 * * *",
  RETENTION: "2",
  S3_ENDPOINT: endpoint,
  S3_REGION: "eu-frankfurt-1",
  S3_BUCKET: "etcd",
  S3_FOLDER: "dev",
  S3_ACCESS_KEY: "AKIDTEST",
  S3_SECRET_KEY: S3_KEY,
});

export const write = (file: string, text: string, mode = 0o600) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
};

/** The bucket's bundles of host NAME, oldest first. */
export const bundles = (store: string, name: string) =>
  fs.existsSync(path.join(store, "etcd/dev"))
    ? fs
        .readdirSync(path.join(store, "etcd/dev"))
        .filter((f) => f.startsWith(`recovery-${name}-`))
        .sort()
    : [];
