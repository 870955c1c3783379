/**
 * Builds the remote command lines that run the bootstrap scripts. Each script is sent whole,
 * behind lib.sh, as the argument of `sudo bash -c`, so the node needs nothing installed first and
 * a reviewer sees a script change in the plan. Settings (and secrets) travel on stdin instead.
 */
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
  | "kernel-hold";

const read = (name: string) => fs.readFileSync(path.join(SCRIPTS_DIR, `${name}.sh`), "utf8");

/** lib.sh followed by the script: the program text `bash -c` runs. */
export function scriptText(name: ScriptName): string {
  return `${read("lib")}\n${read(name)}`;
}

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `sudo bash -c '<lib + script>' <name> <args...>`: $0 is the script's name, $1... its arguments. */
export function scriptCommand(name: ScriptName, ...args: string[]): string {
  return ["sudo", "bash", "-c", shellQuote(scriptText(name)), name, ...args.map(shellQuote)].join(" ");
}

/** The same for a script of another layer (its text given): lib.sh in front, run with sudo. */
export function libScriptCommand(name: string, body: string, ...args: string[]): string {
  return ["sudo", "bash", "-c", shellQuote(`${read("lib")}\n${body}`), name, ...args.map(shellQuote)].join(" ");
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

/** Reads settings lines (as printed by `kubeadm.sh join-material`) back into values. */
export function decodeSettings(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => {
        const at = line.indexOf("=");
        return [line.slice(0, at), Buffer.from(line.slice(at + 1), "base64").toString("utf8")];
      }),
  );
}
