/**
 * A stack file as the program sees it: its `config:` map, with encrypted (`secure:`) values
 * decrypted by the Pulumi CLI when the passphrase is at hand, else replaced by placeholders.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..");

/**
 * What an encrypted (`secure:`) value stands for when the offline plan cannot decrypt it: a value of
 * the right form, so the plan checks everything else. Only sshPrivateKey has a format to satisfy.
 */
export const SECRET_PLACEHOLDERS: Readonly<Record<string, string>> = {
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nplaceholder-for-the-encrypted-value\n-----END OPENSSH PRIVATE KEY-----\n",
};
const SECRET_PLACEHOLDER = "placeholder-for-the-encrypted-value";

/** A stack file's config as the program sees it, and which of its values were encrypted. */
export interface StackFile {
  readonly config: Record<string, unknown>;
  /** Keys held as `secure:` in the file. */
  readonly encrypted: string[];
  /** Whether those were decrypted (else each stands for a placeholder of its form). */
  readonly decrypted: boolean;
  /** Why they were not decrypted, when some are encrypted. */
  readonly note?: string;
}

const isSecure = (v: unknown): v is { secure: string } =>
  v !== null && typeof v === "object" && !Array.isArray(v) && typeof (v as { secure?: unknown }).secure === "string";

/** The Pulumi CLI the offline plan may decrypt with: tools/engine's build, else the one on PATH. */
export function pulumiCli(): string | undefined {
  const built = path.join(ROOT, "tools", "engine", "bin", "pulumi");
  if (fs.existsSync(built)) return built;
  const found = spawnSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Asks the CLI for the stack's decrypted values (`pulumi config --show-secrets --json`); a reason on failure. */
function decryptWithCli(file: string, stack: string): Record<string, unknown> | string {
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    return "PULUMI_CONFIG_PASSPHRASE is not set";
  }
  const cli = pulumiCli();
  if (!cli) return "no Pulumi CLI found (PATH or tools/engine/bin/pulumi)";
  const r = spawnSync(cli, ["config", "--show-secrets", "--json", "--stack", stack, "--config-file", file], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    timeout: 60_000,
  });
  if (r.status !== 0) return `pulumi config --show-secrets failed: ${(r.stderr || r.stdout).trim().split("\n")[0]}`;
  const shown = JSON.parse(r.stdout) as Record<string, { value?: unknown; secret?: boolean }>;
  return Object.fromEntries(Object.entries(shown).map(([k, v]) => [k, v.value]));
}

/**
 * Reads a stack file's `config:` map as the plain values Pulumi would hand the program. Encrypted
 * values (`pulumi config set --secret`) are decrypted with the CLI when `decrypt` names the stack and
 * the passphrase is available; otherwise each becomes a valid placeholder, and `note` says so.
 */
export function readStackFile(file: string, decrypt?: { stack: string }): StackFile {
  const config = { ...((parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> }).config ?? {}) };
  const encrypted = Object.keys(config).filter((k) => isSecure(config[k]));
  if (encrypted.length === 0) return { config, encrypted, decrypted: false };
  const shown = decrypt ? decryptWithCli(file, decrypt.stack) : "the tests never decrypt";
  for (const key of encrypted) {
    if (typeof shown !== "string" && typeof shown[key] === "string") config[key] = shown[key];
    else config[key] = SECRET_PLACEHOLDERS[key.slice(key.indexOf(":") + 1)] ?? SECRET_PLACEHOLDER;
  }
  if (typeof shown !== "string") return { config, encrypted, decrypted: true };
  return { config, encrypted, decrypted: false, note: shown };
}

export function stackConfigFrom(file: string): Record<string, unknown> {
  return readStackFile(file).config;
}
