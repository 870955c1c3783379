/** The suite's SSH client: runs in the suite's network namespace, pins host keys as the program does. */
import * as fs from "fs";
import * as path from "path";
import { must, Run } from "../tools";
import { inSuite } from "./machine";

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
    const known = path.join(this.dir, `known_hosts-${address}-${Buffer.from(hostKey).toString("hex").slice(-16)}`);
    fs.writeFileSync(known, `${address} ${hostKey}\n`);
    return inSuite(
      "ssh",
      [
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
      ],
      { input, timeout },
    );
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
