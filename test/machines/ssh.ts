/** The suite's SSH client: runs in the suite's network namespace, pins host keys as the program does. */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { must, Run } from "../tools";
import { inSuite, SUITE_NS } from "./machine";

export class SshClient {
  readonly key: string;
  readonly publicKey: string;

  constructor(readonly dir: string) {
    this.key = path.join(dir, "client_key");
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "machines-suite", "-f", this.key]);
    this.publicKey = fs.readFileSync(`${this.key}.pub`, "utf8").trim();
  }

  /**
   * One SSH exec request as pulumi-command sends it: the command line, stdin, and exactly one pinned
   * host key (StrictHostKeyChecking=yes: any other key is refused).
   */
  run(user: string, address: string, hostKey: string, command: string, input = "", timeout = 120_000): Run {
    return inSuite("ssh", this.sshArgs(user, address, hostKey, command), { input, timeout });
  }

  /**
   * `run`, started and not waited for: the caller reads its output as it arrives (pulumi-command
   * streams a command's output the same way). The same pinned key and options.
   */
  start(user: string, address: string, hostKey: string, command: string, input = ""): ChildProcess {
    const args = this.sshArgs(user, address, hostKey, command);
    const child = spawn("ip", ["netns", "exec", SUITE_NS, "ssh", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin!.end(input);
    return child;
  }

  private sshArgs(user: string, address: string, hostKey: string, command: string): string[] {
    const known = path.join(this.dir, `known_hosts-${address}-${Buffer.from(hostKey).toString("hex").slice(-16)}`);
    fs.writeFileSync(known, `${address} ${hostKey}\n`);
    return [
      "-i",
      this.key,
      "-o",
      `UserKnownHostsFile=${known}`,
      "-o",
      "GlobalKnownHostsFile=/dev/null",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=10",
      "-o",
      "HostKeyAlgorithms=ssh-ed25519",
      `${user}@${address}`,
      command,
    ];
  }

  /** The ED25519 host key a machine's sshd serves, as ssh-keyscan reports it ("ssh-ed25519 AAAA..."). */
  scan(address: string): string {
    const r = inSuite("ssh-keyscan", ["-T", "10", "-t", "ed25519", address], { timeout: 30_000 });
    const line = r.stdout.split("\n").find((l) => l.startsWith(`${address} ssh-ed25519 `));
    return line ? line.split(" ").slice(1, 3).join(" ") : "";
  }
}

/** A fresh ED25519 key pair in OpenSSH form. */
export function keyPair(dir: string, name: string): { privateKeyOpenssh: string; publicKeyOpenssh: string } {
  const file = path.join(dir, name);
  must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  return { privateKeyOpenssh: fs.readFileSync(file, "utf8"), publicKeyOpenssh: fs.readFileSync(`${file}.pub`, "utf8") };
}
