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
  go: "golang-go",
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

/** Requires a file the tests build or install (tools/etcd/bin/etcd, tools/engine/bin/pulumi; see `missing`). */
export function requireFile(ctx: Mocha.Context, file: string, how: string): void {
  if (!fs.existsSync(file)) missing(ctx, file, how);
}

/** Requires root (network namespaces, iptables; see `missing`). */
export function requireRoot(ctx: Mocha.Context, why: string): void {
  if (process.getuid?.() !== 0) missing(ctx, `root (${why})`, "run the tests as root, e.g. sudo npm test");
}

/**
 * Loads a Pulumi TypeScript program the way @pulumi/pulumi's Node.js runtime does (cmd/run/run.js):
 * ts-node registered with the directory's tsconfig.json (or none, skipProject, when it has none),
 * `transpileOnly` from PULUMI_NODEJS_TRANSPILE_ONLY (`transpileOnlyEnv`: "false" checks types; ""
 * leaves it to the tsconfig, as a stack without the variable does), then the program required.
 * Returns the child's exit and output; stdout is the type of what the program exports.
 */
export function loadLikePulumi(dir: string, transpileOnlyEnv = "false"): Run {
  const script = `const fs = require("fs");
    const ts = require("typescript");
    const project = "tsconfig.json";
    const options = fs.existsSync(project) ? ts.parseJsonConfigFileContent(ts.readConfigFile(project, ts.sys.readFile).config, ts.sys, ".").options : {};
    const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    require("ts-node").register({ compiler: "typescript", transpileOnly: env ? env === "true" : options.noCheck, project, skipProject: !fs.existsSync(project), compilerOptions: {} });
    const loaded = require("./index.ts");
    process.stdout.write(typeof loaded);`;
  const r = spawnSync(process.execPath, ["-e", script], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, PULUMI_NODEJS_TRANSPILE_ONLY: transpileOnlyEnv },
    timeout: 120_000,
  });
  if (r.error && !closedStdinEarly(r)) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A command that exits before it has read all of its input (a script whose early path never reads
 * its settings) makes Node's write fail with EPIPE; the command itself ran and exited, as it would
 * over SSH, where the unread stdin is dropped. Anything else is a real error.
 */
function closedStdinEarly(r: SpawnSyncReturns<string>): boolean {
  return (r.error as NodeJS.ErrnoException | undefined)?.code === "EPIPE" && (r.status !== null || r.signal !== null);
}

export interface Run {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string; timeout?: number } = {},
): Run {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: "utf8",
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    input: options.input,
    timeout: options.timeout ?? 60_000,
  });
  if (r.error && !closedStdinEarly(r)) throw r.error;
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

/**
 * A directory of symlinks to exactly the named system tools, for PATH after a fakes directory:
 * scripts run against fakes then see the fakes and these tools, never another real program on
 * the host (a real etcdctl, kubectl, curl ...). A tool missing on the host fails loudly.
 */
const SYSTEM_DIRS = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function systemTools(names: readonly string[]): string {
  const dir = tempDir("system-tools");
  for (const name of new Set(names)) {
    // The system's own (as on a node), not a version manager's shim that needs more on PATH.
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8", env: { PATH: SYSTEM_DIRS } });
    if (found.status !== 0) throw new Error(`${name} is not installed; run .ci/run or apt-get install it`);
    fs.symlinkSync(found.stdout.trim(), path.join(dir, name));
  }
  return dir;
}

/** The system tools the bootstrap scripts use besides the distribution's own (which tests fake). */
export const SCRIPT_TOOLS = [
  "bash",
  "env",
  "sh",
  "cat",
  "cp",
  "mv",
  "rm",
  "ln",
  "ls",
  "mkdir",
  "rmdir",
  "mktemp",
  "touch",
  "chmod",
  "install",
  "grep",
  "sed",
  "cut",
  "head",
  "tail",
  "sort",
  "tr",
  "wc",
  "tee",
  "find",
  "base64",
  "date",
  "seq",
  "sleep",
  "timeout",
  "flock",
  "realpath",
  "dirname",
  "basename",
  "stat",
  "id",
  "python3",
  "sha256sum",
  "awk",
  "cmp",
  "diff",
  "readlink",
  // kubeadm's air-gapped install unpacks the CNI plugins' release tarball.
  "tar",
  "gzip",
  // The restore drill's throwaway etcd runs in a network namespace of its own.
  "unshare",
  "nsenter",
  "ip",
] as const;
