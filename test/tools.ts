/** Helpers for tests that run real programs: temp dirs, fake binaries on PATH, command runs. */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `oci-k8s-${prefix}-`));
}

/** Requires a program on PATH; a missing tool fails the test (CI installs them), it never skips it. */
export function requireTool(name: string): void {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (found.status !== 0) throw new Error(`${name} is not installed; run .ci/run or apt-get install it`);
}

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}): Run {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    input: options.input,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function must(cmd: string, args: string[], options: { env?: Record<string, string>; input?: string } = {}): string {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Writes an executable fake named `name` into `dir`: it appends its arguments to `dir/calls.log`
 * and then runs `body` (bash).
 */
export function fakeBin(dir: string, name: string, body = "exit 0"): void {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/usr/bin/env bash\necho "${name} $*" >> "${path.join(dir, "calls.log")}"\n${body}\n`, {
    mode: 0o755,
  });
}

export function calls(dir: string): string[] {
  const log = path.join(dir, "calls.log");
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
}
