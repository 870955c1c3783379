/**
 * Booted machines for the tests: Debian 12 root filesystems (tools/machines/build-rootfs.sh, cached
 * by package list) booted with `systemd-nspawn --boot --register=no`, real systemd as PID 1, each
 * in a network namespace of its own, joined by veth pairs to bridges inside the suite's own network
 * namespace. No address outside 10.77.0.0/24 and 10.78.0.0/24 is used, no route leaves the suite's
 * namespaces, and the SSH client runs inside the suite's namespace too: this machine's own network
 * is never touched.
 *
 * Each machine's root is an overlay over the cached root filesystem (its changes in a directory of
 * its own), kept across its reboots and removed with it. A reboot is `systemctl reboot` inside:
 * nspawn exits with 133 and the machine is started again on the same root, as
 * `systemd-nspawn@.service` does (RestartForceExitStatus=133).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { must, run, Run, tempDir } from "../tools";

export const REPO = path.resolve(__dirname, "..", "..");
const id = process.pid % 10000;
/** The suite's network namespace: the bridges, the SSH client and the artifact mirror live here. */
export const SUITE_NS = `ockm-${id}`;
/** The machines' network (their SSH addresses) and a second, "private" one. */
export const PUBLIC_NET = { bridge: "br0", prefix: "10.77.0", gateway: "10.77.0.1" };
export const PRIVATE_NET = { bridge: "br1", prefix: "10.78.0", gateway: "10.78.0.1" };

/**
 * A stand-in in front of the real sysctl (/usr/local/sbin comes first on every PATH that runs our
 * scripts): a machine shares the host's kernel, and nspawn keeps /proc/sys read-only except the
 * network namespace's own net.*, so a write to kernel.*, vm.* or fs.* is refused ("permission
 * denied") even for Debian's own defaults. It runs the real sysctl and forgives exactly those
 * refusals (listed in /run/machines-sysctl-refused); any other failure stays a failure. What a
 * machine cannot prove, the kernel taking those values, the tests check in the files instead.
 */
const SYSCTL_STANDIN = `#!/bin/bash
# machines suite stand-in (test/machines/machine.ts): see there.
errors="$(mktemp)"
status=0
/usr/sbin/sysctl "$@" 2>"$errors" || status=$?
host_only='^sysctl: permission denied on key "(kernel|vm|fs|user)\\.'
grep -E "$host_only" "$errors" >>/run/machines-sysctl-refused || true
grep -vE "$host_only" "$errors" >&2 || true
if ((status != 0)) && ! grep -qvE "$host_only" "$errors"; then status=0; fi
rm -f "$errors"
exit "$status"
`;

/**
 * A stand-in for modprobe, for the same reason: a machine has the host's kernel and none of its
 * module files, and may not load modules into it. A module "loads" when the host's kernel has it
 * (loaded, the filesystem it provides, or for br_netfilter its sysctls); otherwise it fails as
 * modprobe does.
 */
const MODPROBE_STANDIN = `#!/bin/bash
# machines suite stand-in (test/machines/machine.ts): see there.
status=0
for arg in "$@"; do
  [[ "$arg" == -* ]] && continue
  # nspawn hides /sys/module: a module shows as loaded (/proc/modules), as the filesystem it
  # provides (/proc/filesystems), or for br_netfilter as its sysctls.
  if grep -q "^\${arg//-/_} " /proc/modules 2>/dev/null || grep -qw "$arg" /proc/filesystems; then continue; fi
  if [[ "$arg" == br_netfilter && -d /proc/sys/net/bridge ]]; then continue; fi
  echo "modprobe: FATAL: Module $arg not found in the host's kernel (machines suite stand-in)" >&2
  status=1
done
exit "$status"
`;

/**
 * A stand-in for swapoff: nspawn's seccomp filter refuses swapon/swapoff (EPERM, "Not superuser"),
 * so no machine can have swap on. It succeeds when no swap is on (/proc/swaps lists none), as
 * `swapoff -a` does on a host without active swap, and fails otherwise.
 */
const SWAPOFF_STANDIN = `#!/bin/bash
# machines suite stand-in (test/machines/machine.ts): see there.
if (($(wc -l </proc/swaps) > 1)); then
  echo "swapoff: swap is on in a machine, which nspawn cannot turn off (machines suite stand-in)" >&2
  exit 1
fi
`;

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Builds (or finds in the cache) the root filesystem; returns its path. */
export function rootfs(): string {
  // A root filesystem made some other way (same packages), e.g. while a new one builds.
  if (process.env.MACHINES_ROOTFS) return process.env.MACHINES_ROOTFS;
  const r = run(path.join(REPO, "tools/machines/build-rootfs.sh"), [], { timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`tools/machines/build-rootfs.sh failed:\n${r.stderr.slice(-3000)}`);
  return r.stdout.trim().split("\n").pop()!;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value, or fails after `timeoutMs` saying `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined, everyMs = 500): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The suite's network namespace with its two bridges; no default route, nothing forwarded out. */
export function createSuiteNetwork(): void {
  must("ip", ["netns", "add", SUITE_NS]);
  const ip = (...args: string[]) => must("ip", ["-n", SUITE_NS, ...args]);
  ip("link", "set", "lo", "up");
  for (const net of [PUBLIC_NET, PRIVATE_NET]) {
    ip("link", "add", net.bridge, "type", "bridge");
    ip("addr", "add", `${net.gateway}/24`, "dev", net.bridge);
    ip("link", "set", net.bridge, "up");
  }
}

export function destroySuiteNetwork(): void {
  spawnSync("ip", ["netns", "delete", SUITE_NS]);
}

/** Runs a program inside the suite's network namespace (the SSH client, curl, the mirror). */
export function inSuite(cmd: string, args: string[], options: { input?: string; timeout?: number } = {}): Run {
  return run("ip", ["netns", "exec", SUITE_NS, cmd, ...args], options);
}

export interface MachineOptions {
  /** Last octet of its address on the public network (eth0). */
  readonly host: number;
  /** Also give it eth1 on the private network, with the same last octet. */
  readonly privateNic?: boolean;
  /** A data disk of this many MiB (a loop device), passed in at `diskPath`. */
  readonly diskMb?: number;
  readonly diskPath?: string;
  /**
   * Its interfaces configured at boot by systemd-networkd (a .network file for each, the same
   * addresses; systemd-networkd.service and its wait-online enabled), as a Debian or Ubuntu VPS or
   * cloud image configures them (Ubuntu's netplan renders networkd's files), instead of from
   * outside. cloud-init.service is ordered after systemd-networkd-wait-online.service, so this
   * puts the network units into the boot transaction, with the ordering a real host has. The
   * address is then not added from outside: networkd failed to configure one already there
   * ("Failed to configure address: Numerical result out of range") and wait-online timed out.
   */
  readonly networkd?: boolean;
  /** Further systemd-nspawn options (the cluster suite's nodes: the kernel log, every capability). */
  readonly nspawnArgs?: readonly string[];
}

export class Machine {
  readonly ns: string;
  readonly address: string;
  readonly privateAddress?: string;
  readonly dir: string;
  readonly root: string;
  loop?: string;
  private proc?: ChildProcess;
  private exited?: Promise<number>;
  leader = 0;
  boots = 0;
  /** Peak memory seen in the machine's cgroup, bytes (0 when unreadable). */
  peakMemory = 0;

  constructor(
    readonly name: string,
    readonly options: MachineOptions,
  ) {
    this.ns = `ockm-${id}-${options.host}`;
    this.address = `${PUBLIC_NET.prefix}.${options.host}`;
    if (options.privateNic) this.privateAddress = `${PRIVATE_NET.prefix}.${options.host}`;
    this.dir = tempDir(`machine-${name}`);
    this.root = path.join(this.dir, "root");
  }

  /** Its root (an overlay over the image), its network namespace and links, its disk. */
  create(image: string): void {
    for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(this.dir, d));
    must("mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${image},upperdir=${path.join(this.dir, "upper")},workdir=${path.join(this.dir, "work")}`,
      this.root,
    ]);
    fs.writeFileSync(path.join(this.root, "etc/hostname"), `${this.name}\n`);
    this.write("usr/local/sbin/sysctl", SYSCTL_STANDIN, 0o755);
    this.write("usr/local/sbin/modprobe", MODPROBE_STANDIN, 0o755);
    this.write("usr/local/sbin/swapoff", SWAPOFF_STANDIN, 0o755);
    must("ip", ["netns", "add", this.ns]);
    must("ip", ["-n", this.ns, "link", "set", "lo", "up"]);
    const nics: [string, typeof PUBLIC_NET, string][] = [["eth0", PUBLIC_NET, this.address]];
    if (this.privateAddress) nics.push(["eth1", PRIVATE_NET, this.privateAddress]);
    for (const [nic, net, address] of nics) {
      const outer = `v${this.options.host}${nic}`;
      must("ip", ["-n", SUITE_NS, "link", "add", outer, "type", "veth", "peer", "name", nic, "netns", this.ns]);
      must("ip", ["-n", SUITE_NS, "link", "set", outer, "master", net.bridge, "up"]);
      if (this.options.networkd) {
        this.write(`etc/systemd/network/10-${nic}.network`, `[Match]\nName=${nic}\n\n[Network]\nAddress=${address}/24\n`);
        continue;
      }
      must("ip", ["-n", this.ns, "addr", "add", `${address}/24`, "dev", nic]);
      must("ip", ["-n", this.ns, "link", "set", nic, "up"]);
    }
    // Enabled as `systemctl enable` does (its Also= take the socket, wait-online and the generator along).
    if (this.options.networkd) must("systemctl", [`--root=${this.root}`, "enable", "--quiet", "systemd-networkd.service"]);
    if (this.options.diskMb) {
      const file = path.join(this.dir, "disk.img");
      must("truncate", ["-s", `${this.options.diskMb}M`, file]);
      this.loop = must("losetup", ["--find", "--show", file]).trim();
    }
  }

  /** Runs a shell command in the machine's root before it boots (systemd-nspawn without --boot). */
  inRoot(command: string): string {
    return must("systemd-nspawn", ["-q", "--register=no", "--keep-unit", "-D", this.root, "sh", "-c", command]);
  }

  /** Writes a file into the machine's root (before a boot, or while it runs). */
  write(file: string, content: string, mode = 0o644): void {
    const target = path.join(this.root, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content, { mode });
  }

  /** Starts the machine and waits until systemd reports it has finished booting. */
  async boot(timeoutMs = 180_000): Promise<string> {
    // --private-network with the namespace: nspawn then mounts /proc/sys/net writable (net.* are
    // the namespace's own); the rest of /proc/sys stays read-only.
    const args = [
      "--boot",
      "--register=no",
      "--keep-unit",
      "--quiet",
      "--private-network",
      `--network-namespace-path=/run/netns/${this.ns}`,
      "-D",
      this.root,
    ];
    args.push(`--machine=${this.name}`, "--console=passive", "--kill-signal=SIGRTMIN+3", ...(this.options.nspawnArgs ?? []));
    if (this.loop) {
      // The device node itself (so blkid finds the filesystem by scanning) and the consistent
      // path the program's scripts look for.
      args.push(`--bind=${this.loop}`);
      if (this.options.diskPath) args.push(`--bind=${this.loop}:${this.options.diskPath}`);
    }
    const log = fs.openSync(path.join(this.dir, `console-${this.boots}.log`), "w");
    const proc = spawn("nice", ["-n", "5", "systemd-nspawn", ...args], { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    this.proc = proc;
    this.boots++;
    this.exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : -1))));
    // nspawn runs under `nice`, which execs it; the machine's PID 1 is nspawn's child.
    this.leader = await waitFor(`${this.name}'s init`, 30_000, () => this.findLeader(proc.pid!));
    return waitFor(
      `${this.name} to finish booting (systemctl is-system-running)`,
      timeoutMs,
      () => {
        if (proc.exitCode !== null)
          throw new Error(`${this.name} exited with ${proc.exitCode} while booting:\n${this.console()}`);
        const state = this.sh("systemctl is-system-running").stdout.trim();
        // And logins open: sshd refuses the unprivileged user ("System is booting up", pam_nologin)
        // until systemd-user-sessions.service has removed /run/nologin.
        const open = this.sh("test ! -e /run/nologin").status === 0;
        return (state === "running" || state === "degraded") && open ? state : undefined;
      },
      1000,
    );
  }

  /** The machine's PID 1: nspawn's child in a PID namespace of its own. */
  private findLeader(nspawn: number): number | undefined {
    const own = fs.readlinkSync("/proc/self/ns/pid");
    const r = spawnSync("pgrep", ["-P", String(nspawn)], { encoding: "utf8" });
    for (const pid of r.stdout
      .trim()
      .split("\n")
      .map(Number)
      .filter((p) => p > 0)) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/ns/pid`) !== own) return pid;
      } catch {
        /* a short-lived helper of nspawn, gone already */
      }
    }
    return undefined;
  }

  console(): string {
    const file = path.join(this.dir, `console-${this.boots - 1}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").slice(-4000) : "";
  }

  /** Runs a shell command inside the running machine (all its namespaces, as root). */
  sh(script: string, options: { input?: string; timeout?: number } = {}): Run {
    return run("nsenter", ["-t", String(this.leader), "-a", "/usr/bin/env", "-i", `PATH=${PATH}`, "/bin/sh", "-c", script], {
      input: options.input,
      timeout: options.timeout ?? 60_000,
    });
  }

  /** Like `sh`, failing on a non-zero exit; returns stdout. */
  must(script: string, timeout?: number): string {
    const r = this.sh(script, { timeout });
    if (r.status !== 0) throw new Error(`${this.name}: ${script} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** `systemctl reboot` inside; nspawn exits 133; the machine is started again on the same root. */
  async reboot(): Promise<{ exitCode: number; state: string }> {
    this.recordMemory();
    this.sh("systemctl reboot");
    const exitCode = await Promise.race([this.exited!, sleep(90_000).then(() => -1)]);
    if (exitCode === -1) throw new Error(`${this.name} did not exit within 90s of systemctl reboot`);
    const state = await this.boot();
    return { exitCode, state };
  }

  /** Peak memory of the machine's cgroup so far (cgroup v1 or v2, whichever the host has). */
  recordMemory(): void {
    if (!this.leader) return;
    try {
      const cg = fs.readFileSync(`/proc/${this.leader}/cgroup`, "utf8");
      const mem = /^\d+:(?:memory)?:(.*)$/m.exec(cg.split("\n").find((l) => /:memory:|^0::/.test(l)) ?? "");
      if (!mem) return;
      for (const f of [`/sys/fs/cgroup/memory${mem[1]}/memory.max_usage_in_bytes`, `/sys/fs/cgroup${mem[1]}/memory.peak`]) {
        if (fs.existsSync(f)) this.peakMemory = Math.max(this.peakMemory, Number(fs.readFileSync(f, "utf8")));
      }
    } catch {
      /* the figure is best effort; the machine's health is checked elsewhere */
    }
  }

  /** Memory the machine's processes use now (sum of their resident sets), bytes. */
  residentMemory(): number {
    const r = this.sh("cat /proc/[0-9]*/statm 2>/dev/null | awk '{ s += $2 } END { print s * 4096 }'");
    return Number(r.stdout.trim()) || 0;
  }

  /** Stops the machine (cleanly if it can) and removes everything it had: nothing stays mounted. */
  async destroy(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      this.sh("systemctl poweroff", { timeout: 10_000 });
      const done = await Promise.race([this.exited!, sleep(30_000).then(() => -1)]);
      if (done === -1) {
        // Killing PID 1 of the machine's PID namespace kills every process in it; nspawn follows.
        const leader = this.findLeader(proc.pid!) ?? this.leader;
        if (leader) spawnSync("kill", ["-KILL", String(leader)]);
        proc.kill("SIGKILL");
        await Promise.race([this.exited!, sleep(10_000)]);
      }
    }
    spawnSync("umount", ["--recursive", "--lazy", this.root]);
    if (this.loop) spawnSync("losetup", ["-d", this.loop]);
    spawnSync("ip", ["netns", "delete", this.ns]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
