/**
 * What the secrets policy knows about secrets in commands (pulumi-command's `command:remote:Command`
 * and `command:local:Command`). The policy pack sees every value unwrapped (@pulumi/policy 1.21
 * deserialize.js: "secrets must be fully unpacked"), so a secret is told by its shape and by where
 * it sits, not by a secret flag.
 */
import { DISTRIBUTIONS } from "../k8s/bootstrap/distributions";
import { decodeSettings, scriptPart, settingsPart } from "../k8s/bootstrap/scripts";

/** Text that is a secret wherever it appears. */
export const SECRET_TEXT: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/,
  // GitHub fine-grained personal access tokens.
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  // A k3s/RKE2 full token (K10<CA hash>::<user>:<password>).
  /\bK10[0-9a-f]{40,}::/,
  // The program's own cluster token: random.RandomPassword, length 48, no special characters, so
  // 48 letters and digits (k8s/bootstrap/cluster.ts), standing alone.
  /(?<![A-Za-z0-9])[A-Za-z0-9]{48}(?![A-Za-z0-9])/,
  // A kubeadm bootstrap token, by kubeadm's own pattern (k8s.io/cluster-bootstrap token/api
  // BootstrapTokenPattern `\A([a-z0-9]{6})\.([a-z0-9]{16})\z`).
  /(?<![a-z0-9.])[a-z0-9]{6}\.[a-z0-9]{16}(?![a-z0-9.])/,
];

/** Settings (KEY=<base64> lines after the script on stdin) whose name says they carry a secret. */
const SECRET_SETTING = /(TOKEN|SECRET|PASSWORD|PASSPHRASE|PRIVATE_KEY|CERTIFICATE_KEY|ENCRYPTION_KEY|^PKI$)/;
/** A `key: value` or `key=value` line (YAML, an env file, a config file) whose key names a secret. */
const SECRET_ENTRY =
  /^\s*-?\s*"?[A-Za-z0-9_.-]*(token|secret|password|passphrase|certificate-key|private-key)([-_]?key)?"?\s*[:=]\s*\S/im;

const KUBECONFIG_FILES = [...new Set(Object.values(DISTRIBUTIONS).map((d) => d.kubeconfigPath))];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Command lines whose output is a secret: the program's kubeconfig read and kubeadm join material
 * (by their script names, k8s/bootstrap/scripts.ts), any read of a distribution's admin kubeconfig
 * (cat, head, tail, base64 or kubectl's `config view --raw`), and kubeadm's own printers.
 */
export const PRINTS_SECRETS: readonly RegExp[] = [
  / kubeconfig( |$)/,
  / (re)?join-material( |$)/,
  new RegExp(`\\b(cat|head|tail|base64|less|more|tee)\\b[^|;&]*(${KUBECONFIG_FILES.map(escape).join("|")})`),
  /\bkubectl\b[^|;&]*\bconfig\s+view\b[^|;&]*--raw/,
  /\bkubeadm\s+token\s+create\b[^|;&]*--print-join-command/,
  /\bkubeadm\s+init\s+phase\s+upload-certs\b/,
];

/**
 * A `kubeadm init` run (not one of its phases) that prints its token or certificate key. A run is
 * `kubeadm init` followed by a flag or the line's end, outside a comment, with continuation lines
 * joined; prose such as "kubeadm init failed" is not one.
 */
export function kubeadmInitPrints(text: string): string | undefined {
  const logical = withoutLoader(text)
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n");
  for (const m of logical.matchAll(/\bkubeadm\s+init(?=\s+-|\s*$)[^\n|;&]*/gm)) {
    const line = m[0];
    const missing = ["--skip-token-print", ...(line.includes("--upload-certs") ? ["--skip-certificate-key-print"] : [])].filter(
      (flag) => !line.includes(flag),
    );
    if (missing.length > 0) return `runs kubeadm init without ${missing.join(" and ")} (it prints the join secrets)`;
  }
  return undefined;
}

/**
 * A command line without the program's loader and script name (`sudo bash -c '<loader>' NAME`,
 * k8s/bootstrap/scripts.ts), so `kubeadm init` there is kubeadm.sh's action, not kubeadm run.
 */
const withoutLoader = (line: string) => line.replace(/^sudo bash -c '(?:[^']|'\\'')*' \S+/, "");

/** Every string in a value, with the path it sits at (`triggers[0]`, `environment.TOKEN`). */
export function stringsIn(value: unknown, at: string): [string, string][] {
  if (typeof value === "string") return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, `${at}[${i}]`));
  if (value && typeof value === "object")
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => stringsIn(v, `${at}.${k}`));
  return [];
}

/** What a command's stdin holds: the script it begins with (scriptStdin), and its settings decoded. */
export function readStdin(stdin: string): { script?: string; settings: Record<string, string>; rest: string } {
  const script = scriptPart(stdin);
  const settings = decodeSettings(stdin);
  const rest = script === undefined ? stdin : settingsPart(stdin);
  return { script, settings, rest };
}

/** Whether a stdin carries a secret: a secret's shape, a setting named for one, or a secret-named entry in a setting. */
export function stdinSecret(stdin: string): string | undefined {
  const { script, settings, rest } = readStdin(stdin);
  for (const [name, value] of Object.entries(settings)) {
    if (SECRET_SETTING.test(name)) return `setting ${name}`;
    if (SECRET_TEXT.some((re) => re.test(value)) || SECRET_ENTRY.test(value)) return `setting ${name}`;
  }
  // Not settings lines: a plain stdin is judged as a whole.
  if (Object.keys(settings).length === 0 && (SECRET_TEXT.some((re) => re.test(rest)) || SECRET_ENTRY.test(rest))) return "stdin";
  if (script !== undefined && SECRET_TEXT.some((re) => re.test(script))) return "the script on stdin";
  return undefined;
}
