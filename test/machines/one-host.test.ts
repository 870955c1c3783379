/**
 * One existing host over real SSH, in states the real world has, each case run with the registered
 * command line and stdin of a one-server k3s hosts stack (its private address on eth1, an API VIP):
 * - apt's lock held at boot;
 * - the host's own cloud-init ended in error (a VPS image's): the wait decides by the program's
 *   marker only (issue 20 item 19);
 * - kube-vip's VIP goes on the interface holding privateIp (eth1), not eth0, and a named
 *   apiVipInterface the server lacks is refused (issue 20 item 4).
 *
 * apt's lock held at boot: a fresh host's unattended-upgrades (apt-daily-upgrade)
 * holds dpkg's lock for minutes after boot, and the program's host preparation (prepare-host.sh,
 * whose apt installs chrony on a host with no time sync) runs into it.
 *
 * The holder is a STAND-IN for unattended-upgrades (test only): a unit started at boot that takes
 * dpkg's lock with python-apt's `apt_pkg.pkgsystem_lock()`, the call unattended-upgrade makes
 * (lock-frontend, then lock: fcntl locks, which the real apt-get in the machine then finds held).
 * It holds the lock until the test releases it, or for good.
 *
 * The prepare step is the registered command of a one-host k3s stack, with exactly its stdin, over
 * SSH with the pinned key. It must say at once that it waits, and for whom; then succeed once the
 * lock is released; and with a lock never released, fail within its bound saying who held it.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { HOST_READY_MARKER } from "../../node-prep";
import { Registered, ROOT, runOk, RunResult, stackConfigFrom } from "../../scripts/mock-program";
import { requireRoot, requireTool, tempDir } from "../tools";
import { vpsUserData } from "./existing-hosts.fixtures";
import { createSuiteNetwork, destroySuiteNetwork, Machine, PRIVATE_NET, PUBLIC_NET, rootfs, sleep, waitFor } from "./machine";
import { COMMAND, engineOrder, stdinOf } from "./plan";
import { keyPair, SshClient } from "./ssh";

const USER = "debian";
const HELD = "/run/apt-lock-standin.held";
const RELEASE = "/run/apt-lock-standin.release";

/** The STAND-IN for unattended-upgrades: dpkg's lock as unattended-upgrade takes it, held until RELEASE exists. */
const HOLDER = `#!/usr/bin/python3
# STAND-IN for unattended-upgrades holding dpkg's lock at boot (machines suite, test only).
import os, time
import apt_pkg
apt_pkg.init_system()
apt_pkg.pkgsystem_lock()
with open("${HELD}", "w") as f:
    f.write(str(os.getpid()))
while not os.path.exists("${RELEASE}"):
    time.sleep(0.2)
`;
const HOLDER_UNIT = `[Unit]
Description=STAND-IN for unattended-upgrades holding dpkg's lock at boot (machines suite, test only)
After=local-fs.target

[Service]
ExecStartPre=/bin/rm -f ${HELD}
ExecStart=/usr/local/sbin/apt-lock-standin

[Install]
WantedBy=multi-user.target
`;

interface Streamed {
  status: number;
  stderr: string;
  /** When each stderr line arrived (ms since the epoch). */
  lines: { at: number; text: string }[];
  seconds: number;
}

describe("one existing host: apt's lock held at boot, its own cloud-init in error, kube-vip's interface", function () {
  this.timeout(600_000);
  let dir = "";
  let client: SshClient;
  let machine: Machine;
  let hostKey = "";
  let prepare: { command: string; stdin: string; host: string };
  let plan: RunResult;
  let stack: Record<string, unknown> = {};

  /** The prepare command over SSH, its stderr read line by line as it arrives. */
  function startPrepare(command = prepare.command): { done: Promise<Streamed>; lines: Streamed["lines"] } {
    const started = Date.now();
    const child = client.start(USER, prepare.host, hostKey, command, prepare.stdin);
    const lines: Streamed["lines"] = [];
    let stderr = "";
    let partial = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop()!;
      for (const text of parts) lines.push({ at: Date.now(), text });
    });
    child.stdout!.resume();
    const done = new Promise<Streamed>((resolve) =>
      child.on("close", (code) => resolve({ status: code ?? -1, stderr, lines, seconds: (Date.now() - started) / 1000 })),
    );
    return { done, lines };
  }

  before(async function () {
    requireRoot(this, "network namespaces and systemd-nspawn need root");
    for (const tool of ["systemd-nspawn", "debootstrap", "nsenter", "ssh", "ip"]) requireTool(this, tool);
    const image = rootfs();
    dir = tempDir("apt-lock");
    client = new SshClient(dir);
    createSuiteNetwork();
    machine = new Machine("vps-apt", { host: 31, privateNic: true });
    const key = keyPair(dir, "vps-apt-host");
    hostKey = key.publicKeyOpenssh.split(" ").slice(0, 2).join(" ");
    machine.create(image);
    // The VPS image's own cloud-config has a step that fails: its cloud-init ends in error.
    machine.write(
      "var/lib/cloud/seed/nocloud/user-data",
      `${vpsUserData(key, false)}runcmd:\n  - [sh, -c, "echo 'a step of the VPS image (machines suite stand-in) fails' >&2; exit 1"]\n`,
    );
    machine.write(
      "var/lib/cloud/seed/nocloud/meta-data",
      stringify({ "instance-id": "vps-31", "local-hostname": machine.name, "public-keys": [client.publicKey] }),
    );
    machine.write("etc/cloud/cloud.cfg.d/91-machines-network.cfg", "network: {config: disabled}\n");
    machine.write("usr/local/sbin/apt-lock-standin", HOLDER, 0o755);
    machine.write("etc/systemd/system/apt-lock-standin.service", HOLDER_UNIT);
    fs.mkdirSync(path.join(machine.root, "etc/systemd/system/multi-user.target.wants"), { recursive: true });
    fs.symlinkSync(
      "/etc/systemd/system/apt-lock-standin.service",
      path.join(machine.root, "etc/systemd/system/multi-user.target.wants/apt-lock-standin.service"),
    );
    await machine.boot();
    machine.sh("cloud-init status --wait", { timeout: 300_000 });
    stack = {
      ...stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.vps-kubeadm.yaml")),
      "oci-k8s:distribution": "k3s",
      "oci-k8s:hostUser": USER,
      "oci-k8s:adminCidrs": [`${PUBLIC_NET.gateway}/32`],
      "oci-k8s:apiVip": `${PRIVATE_NET.prefix}.100`,
      "oci-k8s:hosts": [
        { name: machine.name, role: "server", address: machine.address, privateIp: machine.privateAddress, memoryGb: 4, hostKey },
      ],
    };
    plan = await runOk("machines-one-host", stack);
    const c = engineOrder(plan).find((x) => x.name === `${machine.name}-prepare`)!;
    prepare = { command: c.inputs.create, stdin: stdinOf(c), host: c.inputs.connection.host };
  });

  after(async () => {
    if (machine?.leader)
      console.log(
        `      ${machine.name}: ${Math.round(machine.residentMemory() / 2 ** 20)} MiB resident (sum of its processes' RSS)`,
      );
    await machine?.destroy();
    destroySuiteNetwork();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the lock is held from boot, as apt itself sees it, and the host has no time sync running (so prepare's apt installs chrony)", async () => {
    await waitFor("the stand-in to hold dpkg's lock", 60_000, () =>
      machine.sh(`test -s ${HELD}`).status === 0 ? true : undefined,
    );
    const apt = machine.sh("apt-get -o DPkg::Lock::Timeout=0 install -y -qq chrony");
    assert.notEqual(apt.status, 0);
    assert.match(
      apt.stdout + apt.stderr,
      /Could not get lock \/var\/lib\/dpkg\/lock-frontend\. It is held by process \d+ \(apt-lock-standi\)/,
    );
    // A VPS with no time sync running: chrony stopped (in a container, its unit's CAP_SYS_TIME condition keeps it off anyway).
    machine.sh("systemctl stop chrony.service systemd-timesyncd.service");
    for (const unit of ["chrony.service", "systemd-timesyncd.service"])
      assert.notEqual(machine.sh(`systemctl is-active --quiet ${unit}`).status, 0, `${unit} is running`);
  });

  it("prepare says at once that it waits and for whom, waits, and succeeds once the lock is released", async () => {
    const run = startPrepare();
    const waiting =
      /^\[oci-k8s\] \/var\/lib\/dpkg\/lock-frontend is held by process \d+ \(apt-lock-standi\) \(another apt run\); waiting/;
    // The line comes while apt still waits (within the first minute; apt's own lock timeout was 60 s before).
    const line = await waitFor("prepare's line saying it waits for apt's lock", 45_000, () =>
      run.lines.find((l) => waiting.test(l.text)),
    );
    await sleep(8_000);
    assert.equal(machine.sh(`test -e ${HOST_READY_MARKER}`).status, 1, "prepared while the lock was held");
    const released = Date.now();
    machine.must(`touch ${RELEASE}`);
    const r = await run.done;
    assert.equal(r.status, 0, `prepare exited ${r.status}:\n${r.stderr.slice(-3000)}`);
    assert.ok(line.at < released, "the line came before the lock was released");
    assert.match(r.stderr, /host prepared; wrote /);
    assert.match(machine.must(`cat ${HOST_READY_MARKER}`), /^\d{4}-/);
    console.log(
      `      prepare waited for apt's lock and finished ${((Date.now() - released) / 1000).toFixed(1)} s after its release (${r.seconds.toFixed(1)} s in all)`,
    );
  });

  /** One registered command over SSH, exactly its command line and stdin. */
  const runRegistered = (c: Registered) => client.run(USER, c.inputs.connection.host, hostKey, c.inputs.create, stdinOf(c));
  const command = (p: RunResult, name: string) => p.resources.find((r) => r.type === COMMAND && r.name === name)!;

  it("the wait decides by the program's marker only, on a host whose own cloud-init ended in error (issue 20 item 19)", () => {
    const status = machine.sh("cloud-init status");
    assert.equal(status.status, 1, `the VPS's own cloud-init is in error:\n${status.stdout}`);
    assert.match(status.stdout, /status: error/);
    const c = command(plan, `${machine.name}-wait`);
    assert.match(c.inputs.create, / wait-host \S+ marker-only$/);
    const r = runRegistered(c);
    assert.equal(r.status, 0, `the wait failed on the host's own cloud-init:\n${r.stderr}`);
    assert.match(r.stderr, /host ready since \d{4}-/);
  });

  it("kube-vip's VIP goes on the interface holding privateIp (eth1, not eth0), and a named interface the server lacks is refused (issue 20 item 4)", async () => {
    const c = command(plan, `${machine.name}-kube-vip`);
    const manifest = /kube-vip (\S+) /.exec(c.inputs.create)![1];
    assert.equal(machine.must(`ip -o -4 addr show to ${machine.privateAddress}/32 | awk '{ print $2 }'`).trim(), "eth1");
    const r = runRegistered(c);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /kube-vip announces the API address on eth1/);
    const pod = parse(machine.must(`cat ${manifest}`));
    const env = Object.fromEntries(pod.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(env.vip_interface, "eth1");
    assert.equal(env.address, `${PRIVATE_NET.prefix}.100`);
    assert.equal(env.vip_nodename, machine.name);
    machine.must(`rm -f ${manifest}`);
    const named = await runOk("machines-one-host-vip-iface", { ...stack, "oci-k8s:apiVipInterface": "ens9" });
    const refused = runRegistered(command(named, `${machine.name}-kube-vip`));
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /FAILED: apiVipInterface ens9: this server has no such network interface \(it has: .*eth1/);
    assert.equal(machine.sh(`test -e ${manifest}`).status, 1, "no manifest placed");
  });

  it("with the lock never released, prepare fails within its bound, naming the lock and its holder", async () => {
    machine.must(`rm -f ${RELEASE} ${HOST_READY_MARKER} && systemctl restart apt-lock-standin.service`);
    await waitFor("the stand-in to hold dpkg's lock again", 60_000, () =>
      machine.sh(`test -s ${HELD}`).status === 0 ? true : undefined,
    );
    // The bound is 600 s; this case sets it to 20 s for its own run (sudo keeps a VAR=value it is given).
    assert.match(prepare.command, /^sudo bash -c /);
    const r = await startPrepare(prepare.command.replace(/^sudo /, "sudo OCI_K8S_APT_LOCK_WAIT=20 ")).done;
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /FAILED: \/var\/lib\/dpkg\/lock-frontend was held by process \d+ \(apt-lock-standi\) for 20s, this step's bound for apt's lock/,
    );
    assert.match(r.stderr, /try: another apt run \(unattended-upgrades, apt-daily\) is still busy/);
    assert.ok(r.seconds >= 20 && r.seconds < 45, `failed after ${r.seconds} s`);
    assert.equal(machine.sh(`test -e ${HOST_READY_MARKER}`).status, 1, "no ready marker after a failed preparation");
    machine.must(`touch ${RELEASE}`);
  });
});
