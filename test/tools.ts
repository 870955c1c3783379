/** Helpers for tests that run real programs: temp dirs, fake binaries on PATH, command runs. */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `oci-k8s-${prefix}-`));
}

/** Debian packages of the tools the tests run, for the message that says how to get one. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  ip: "iproute2",
  iptables: "iptables",
  "iptables-restore": "iptables",
  "cloud-init": "cloud-init",
  shellcheck: "shellcheck",
  "mkfs.ext4": "e2fsprogs",
  blkid: "util-linux",
  promtool: "prometheus",
};

/**
 * Something a test needs from the machine is missing. Outside CI the test is skipped, saying what
 * is missing and how to get it, so `npm test` passes on any fresh Linux machine; under CI (the
 * CI variable is set, as for .ci/run) it fails instead, so CI runs every test.
 */
export function missing(ctx: Mocha.Context, what: string, how: string): never {
  const message = `${what} is missing: ${how} (.ci/run installs everything)`;
  if (process.env.CI) throw new Error(message);
  console.warn(`      skipped: ${message}`);
  ctx.skip();
}

/** Requires a program on PATH (see `missing`). */
export function requireTool(ctx: Mocha.Context, name: string): void {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (found.status !== 0) missing(ctx, name, `apt-get install ${PACKAGE_OF[name] ?? name}`);
}

/** Requires root (network namespaces, iptables; see `missing`). */
export function requireRoot(ctx: Mocha.Context, why: string): void {
  if (process.getuid?.() !== 0) missing(ctx, `root (${why})`, "run the tests as root, e.g. sudo npm test");
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
