/**
 * Existing hosts over real SSH: three booted Debian 12 machines play a hosts stack's VPSes, each
 * made the way VPS providers make them (cloud-init, long done, with `manage_etc_hosts: true`, the
 * host key the stack pins, the `debian` user with passwordless sudo). One has ufw active; one has
 * its private address on a second interface (eth1) and its public one on eth0. The stack's
 * registered commands run over SSH with exactly their registered command line and stdin, in the
 * engine's dependency order, with each command's registered connection (address, user, pinned key).
 *
 * The distribution is k3s, and no machine reaches the internet: the install from the releases
 * fails at its download; the air-gapped path (artifactSource) takes STAND-IN files (install.sh,
 * binary, images; named as such) from a mirror the suite serves on its bridge, pinned by sha256:
 * they prove the path, not k3s. The kubeadm endpoint pin runs on the first host (one-server kubeadm).
 */
import { strict as assert } from "assert";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { DATA_MOUNT_POINT, HOST_READY_MARKER } from "../../node-prep";
import { Registered, ROOT, RunResult, runOk, stackConfigFrom } from "../../scripts/mock-program";
import { must, requireRoot, requireTool, tempDir } from "../tools";
import { noBootCycle, noFailedUnit, noOrderingCycle, verifyOurUnits } from "./checks";
import { Host, MIRROR, mirrorUp, serveMirror, sha256, STAND_INS, vpsUserData } from "./existing-hosts.fixtures";
import { createSuiteNetwork, destroySuiteNetwork, inSuite, Machine, PUBLIC_NET, rootfs } from "./machine";
import { engineOrder, stdinOf } from "./plan";
import { keyPair, SshClient } from "./ssh";

const USER = "debian";
const ADMIN = PUBLIC_NET.gateway; // the SSH client's address (the suite's side of the bridge)
const DATA_DISK = "/dev/vdb";

describe("existing hosts over real SSH (three booted machines, a k3s hosts stack)", function () {
  this.timeout(900_000);
  const hosts: Host[] = [];
  let dir = "";
  let client: SshClient;
  let plan: RunResult;
  let order: Registered[] = [];
  const created: Registered[] = [];
  let ufwRefusal: { status: number; stderr: string } | undefined;
  let mirror: ChildProcess | undefined;
  let mirrorDir = "";
  let stackConfig: Record<string, unknown> = {};
  const results = new Map<string, { status: number; stdout: string; stderr: string; seconds: number }>();

  const byName = (name: string) => hosts.find((h) => h.machine.name === name)!;

  /** Runs one registered command over SSH, exactly as pulumi-command would (create or delete). */
  function runCommand(c: Registered, which: "create" | "delete" = "create", timeout = 300_000) {
    const conn = c.inputs.connection;
    const started = Date.now();
    const r = client.run(
      conn.user,
      conn.host,
      conn.hostKey,
      c.inputs[which],
      which === "create" ? stdinOf(c) : stdinOf(c),
      timeout,
    );
    const out = { ...r, seconds: (Date.now() - started) / 1000 };
    if (which === "create") results.set(c.name, out);
    return out;
  }

  before(async function () {
    requireRoot(this, "network namespaces, loop devices and systemd-nspawn need root");
    for (const tool of ["systemd-nspawn", "debootstrap", "nsenter", "losetup", "ssh", "ssh-keyscan", "ip"])
      requireTool(this, tool);
    const image = rootfs();
    dir = tempDir("existing-hosts");
    client = new SshClient(dir);
    createSuiteNetwork();
    const specs = [
      { name: "vps-1", host: 21, role: "server" as const, disk: true },
      { name: "vps-2", host: 22, role: "agent" as const, privateNic: true },
      { name: "vps-3", host: 23, role: "agent" as const, ufw: true },
    ];
    for (const s of specs) {
      const machine = new Machine(s.name, {
        host: s.host,
        privateNic: s.privateNic,
        diskMb: s.disk ? 128 : undefined,
        diskPath: DATA_DISK,
        // As a VPS image boots: its network configured by systemd-networkd at boot (issue 20 item 9's cycle needs it).
        networkd: true,
      });
      const key = keyPair(dir, `${s.name}-host`);
      hosts.push({ machine, hostKey: key.publicKeyOpenssh.split(" ").slice(0, 2).join(" "), role: s.role });
      machine.create(image);
      machine.write("var/lib/cloud/seed/nocloud/user-data", vpsUserData(key, true));
      machine.write(
        "var/lib/cloud/seed/nocloud/meta-data",
        stringify({ "instance-id": `vps-${s.host}`, "local-hostname": s.name, "public-keys": [client.publicKey] }),
      );
      machine.write("etc/cloud/cloud.cfg.d/91-machines-network.cfg", "network: {config: disabled}\n");
      if (s.ufw) {
        // ufw Breaks netfilter-persistent: the ufw host is a VPS without it.
        machine.inRoot(
          "dpkg --purge iptables-persistent netfilter-persistent >/dev/null && dpkg -i /opt/oci-k8s-machines/debs/ufw_*.deb >/dev/null",
        );
      }
    }
    await Promise.all(hosts.map((h) => h.machine.boot()));
    for (const h of hosts) h.machine.must("cloud-init status --wait", 300_000);
    // ufw as its users turn it on: SSH allowed, everything else denied.
    byName("vps-3").machine.must("ufw allow 22/tcp >/dev/null && ufw --force enable");
    // The stack: the shipped vps example's settings, pointed at these machines and their pinned keys.
    stackConfig = {
      ...stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.vps-kubeadm.yaml")),
      "oci-k8s:distribution": "k3s",
      "oci-k8s:hostUser": USER,
      "oci-k8s:adminCidrs": [`${ADMIN}/32`],
      "oci-k8s:hosts": hosts.map((h, i) => ({
        name: h.machine.name,
        role: h.role,
        address: h.machine.address,
        ...(h.machine.privateAddress ? { privateIp: h.machine.privateAddress } : {}),
        ...(i === 0 ? { dataDisk: DATA_DISK } : {}),
        memoryGb: 4,
        hostKey: h.hostKey,
      })),
    };
    plan = await runOk("machines", stackConfig);
    order = engineOrder(plan);
  });

  after(async () => {
    for (const h of hosts) {
      if (h.machine.leader)
        console.log(
          `      ${h.machine.name}: ${Math.round(h.machine.residentMemory() / 2 ** 20)} MiB resident (sum of its processes' RSS)`,
        );
    }
    for (const [name, r] of results) console.log(`      ${name}: ${r.seconds.toFixed(1)} s, exit ${r.status}`);
    mirror?.kill();
    if (mirrorDir) fs.rmSync(mirrorDir, { recursive: true, force: true });
    await Promise.all(hosts.map((h) => h.machine.destroy()));
    destroySuiteNetwork();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const stepOf = (c: Registered) => c.name.slice(c.name.lastIndexOf("-") + 1);

  it("prepare, firewall and wait run over SSH with the pinned keys, in the engine's order", () => {
    for (const c of order.filter((x) => ["prepare", "firewall", "wait", "uninstall"].includes(stepOf(x)))) {
      assert.equal(c.inputs.connection.host, hosts.find((h) => c.name.startsWith(`${h.machine.name}-`))!.machine.address);
      let r = runCommand(c);
      if (c.name === "vps-3-prepare") {
        // ufw active: refused with what to do, before anything changed; the user does what it says.
        ufwRefusal = r;
        assert.notEqual(r.status, 0, "prepare on a host with ufw active");
        assert.match(r.stderr, /ufw/);
        const m = byName("vps-3").machine;
        assert.equal(
          m.sh(`test -e ${HOST_READY_MARKER} || test -e /etc/sysctl.d/90-oci-k8s.conf`).status,
          1,
          "refused before any change",
        );
        m.must("ufw disable");
        r = runCommand(c);
      }
      if (r.status === 0) created.push(c);
      assert.equal(r.status, 0, `${c.name} exited ${r.status}:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
    }
    for (const h of hosts) {
      assert.match(h.machine.must(`cat ${HOST_READY_MARKER}`), /^\d{4}-/);
      assert.match(h.machine.must("nft list table inet oci_k8s"), /policy drop/);
    }
  });

  it("the data disk is formatted once and mounted by UUID, with RequiresMountsFor so a failed mount cannot spill onto / (issue 20 item 17)", () => {
    const m = byName("vps-1").machine;
    const uuid = must("blkid", ["-p", "-s", "UUID", "-o", "value", m.loop!]).trim();
    assert.match(m.must("cat /etc/fstab"), new RegExp(`^UUID=${uuid} ${DATA_MOUNT_POINT} `, "m"));
    assert.equal(m.must(`findmnt -no MAJ:MIN ${DATA_MOUNT_POINT}`).trim(), must("lsblk", ["-dno", "MAJ:MIN", m.loop!]).trim());
    const requires = m.sh(
      `grep -rls 'RequiresMountsFor=.*${DATA_MOUNT_POINT}' /etc/systemd/system || grep -q 'x-systemd.requires-mounts-for\\|x-systemd.before' /etc/fstab`,
    );
    assert.equal(requires.status, 0, "a unit (or the fstab entry) requires the data mount");
  });

  it("ufw active on a host: refused with what to do, or the port table opened in it — never half-open (issue 20 item 3)", () => {
    const m = byName("vps-3").machine;
    // A listener on the kubelet's port; the first server must reach it, as the port table says.
    m.must("systemd-run --unit=kubelet-standin python3 -m http.server --bind 0.0.0.0 10250");
    const from = byName("vps-1").machine;
    const reach = from.sh(`timeout 5 curl -s -o /dev/null -w '%{http_code}' http://${m.address}:10250/`);
    const refused = ufwRefusal && ufwRefusal.status !== 0 && /ufw/.test(ufwRefusal.stderr);
    assert.ok(
      refused || reach.stdout === "200",
      `vps-3 with ufw: prepare passed but 10250 from vps-1 is ${reach.stdout || "dropped"}`,
    );
    m.sh("systemctl stop kubelet-standin");
  });

  it("the first server's install goes as far as its download, and fails with its reason", () => {
    for (const c of order.filter((x) => x.name === "vps-1-drain" || x.name === "vps-1-install")) {
      const r = runCommand(c, "create", 600_000);
      if (stepOf(c) === "drain") {
        assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
        created.push(c);
        continue;
      }
      assert.notEqual(r.status, 0, "no machine reaches the internet");
      assert.match(r.stderr, /could not download|FAILED/);
      assert.ok(c.inputs.create.length < 1000 || /FAILED|could not/.test(r.stderr.slice(0, 2000)));
    }
  });

  it("the install takes k3s's files (STAND-INS) from the suite's artifact mirror, pinned by sha256: the air-gapped path (issue 20 item 6)", async () => {
    mirrorDir = tempDir("artifact-mirror");
    for (const [name, text] of Object.entries(STAND_INS)) fs.writeFileSync(path.join(mirrorDir, name), text);
    // The mirror: inside the suite's namespace, on the bridge's address; nothing else serves it.
    mirror = serveMirror(mirrorDir);
    const up = await mirrorUp();
    assert.ok(up, "the suite's artifact mirror did not start");
    const airgapped = await runOk("machines-airgap", {
      ...stackConfig,
      "oci-k8s:artifactSource": MIRROR,
      "oci-k8s:artifactSha256": Object.fromEntries(Object.entries(STAND_INS).map(([n, t]) => [n, sha256(t)])),
    });
    const c = engineOrder(airgapped).find((x) => x.name === "vps-1-install")!;
    assert.match(stdinOf(c), /^ARTIFACT_SOURCE=/m);
    const m = byName("vps-1").machine;
    const r = runCommand(c, "create", 300_000);
    assert.equal(r.status, 0, `${c.name} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
    for (const name of ["install.sh", "k3s", "k3s-airgap-images-amd64.tar.zst"])
      assert.match(r.stderr, new RegExp(`${name.replace(/\./g, "\\.")} verified \\(sha256 ${sha256(STAND_INS[name])}\\)`));
    assert.match(m.must("cat /var/lib/k3s-standin-installs"), /SKIP=true VERSION=v\S+ EXEC=server/);
    assert.equal(m.must("sha256sum /usr/local/bin/k3s").split(" ")[0], sha256(STAND_INS.k3s));
    assert.equal(
      m.must("sha256sum /var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst").split(" ")[0],
      sha256(STAND_INS["k3s-airgap-images-amd64.tar.zst"]),
    );
    assert.equal(m.sh("systemctl is-active k3s").stdout.trim(), "active");
    // A file on the mirror that is not the pinned one is refused, and nothing is placed.
    fs.writeFileSync(path.join(mirrorDir, "k3s"), STAND_INS.k3s + "# changed\n");
    m.must("systemctl disable --now k3s >/dev/null 2>&1; rm -f /usr/local/bin/k3s");
    const bad = runCommand(c, "create", 300_000);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /k3s from http:\/\/\S+ has sha256 [0-9a-f]{64}, not the pinned/);
    assert.equal(m.sh("test -e /usr/local/bin/k3s").status, 1, "the unpinned binary is not placed");
    fs.writeFileSync(path.join(mirrorDir, "k3s"), STAND_INS.k3s);
    assert.equal(runCommand(c, "create", 300_000).status, 0, "installed again from the pinned files");
  });

  it("the agent whose private address is on eth1 gets flannel-iface eth1 and node-ip (issue 20 item 2)", () => {
    const c = order.find((x) => x.name === "vps-2-install")!;
    const config = Buffer.from(/^CONFIG=(.*)$/m.exec(stdinOf(c))?.[1] ?? "", "base64").toString("utf8");
    const m = byName("vps-2").machine;
    // The interface the private address is on, as the machine reports it.
    assert.equal(m.must(`ip -o -4 addr show to ${m.privateAddress}/32 | awk '{ print $2 }'`).trim(), "eth1");
    const r = runCommand(c, "create", 600_000);
    const written = m.sh("cat /etc/rancher/k3s/config.yaml").stdout || config;
    assert.match(written, /node-ip: "?10\.78\.0\.22"?/, `${r.stderr}`);
    assert.match(written, /flannel-iface: "?eth1"?/, "k3s's VXLAN must leave by the interface holding privateIp");
  });

  it("after a reboot: firewall back, SSH only from adminCidrs, swap off, no failed unit, no ordering cycle (issue 20 items 9, 19)", async () => {
    for (const h of hosts) {
      const { exitCode } = await h.machine.reboot();
      assert.equal(exitCode, 133);
    }
    for (const h of hosts) {
      const m = h.machine;
      assert.match(m.must("nft list table inet oci_k8s"), new RegExp(`ip saddr ${ADMIN} tcp dport 22 accept`));
      assert.equal(client.run(USER, m.address, h.hostKey, "true").status, 0, `${m.name}: SSH from the admin address`);
      // From another host (not in adminCidrs) SSH is dropped.
      const other = hosts.find((x) => x !== h)!.machine;
      assert.notEqual(
        other.sh(`timeout 5 bash -c '</dev/tcp/${m.address}/22'`).status,
        0,
        `${m.name}: SSH open to a non-admin host`,
      );
      assert.match(m.must("cat /etc/fstab"), /^# disabled by oci-k8s: \/swapfile/m);
      assert.equal(m.must("swapon --show --noheadings").trim(), "");
      assert.match(m.sh("systemctl is-enabled swap.target").stdout, /masked/, `${m.name}: swap.target masked`);
      verifyOurUnits(m);
      noOrderingCycle(m);
      // The old firewall unit (default dependencies, before network-pre.target, wanted by
      // multi-user.target) made a cycle here with cloud-init.service, which is ordered after
      // systemd-networkd-wait-online.service and before sysinit.target: systemd deleted a job.
      noBootCycle(m, [
        "oci-k8s-firewall.service",
        "systemd-networkd.service",
        "systemd-networkd-wait-online.service",
        "cloud-init-local.service",
        "cloud-init.service",
      ]);
      noFailedUnit(m, "after reboot");
    }
  });

  it("a host whose egress is silently dropped: the install fails within its bound (5 attempts, --connect-timeout 10), saying what to check", () => {
    const m = byName("vps-3").machine;
    // The release host resolves (a stand-in /etc/hosts line) to an address whose packets this
    // machine drops unanswered: a stand-in nftables table of the test's, removed after.
    const blackhole = `${PUBLIC_NET.prefix}.250`;
    m.must(`echo '${blackhole} raw.githubusercontent.com # machines suite stand-in' >> /etc/hosts`);
    m.must(
      `nft add table inet machines_egress && nft add chain inet machines_egress out '{ type filter hook output priority 0; policy accept; }' && nft add rule inet machines_egress out ip daddr ${blackhole} drop`,
    );
    try {
      const c = order.find((x) => x.name === "vps-3-install")!;
      const r = runCommand(c, "create", 300_000);
      assert.notEqual(r.status, 0);
      assert.match(
        r.stderr,
        /download of https:\/\/raw\.githubusercontent\.com\/\S+ failed 5 times; last: .*(timed out|Timeout)/i,
      );
      assert.match(r.stderr, /FAILED: could not download the k3s \S+ installer from https:\/\/raw\.githubusercontent\.com\//);
      assert.match(r.stderr, /try: check the node's outbound internet access/);
      // Five connects of 10 s each and four 5 s pauses: about 70 s, and never unbounded.
      assert.ok(r.seconds >= 45 && r.seconds < 150, `the install took ${r.seconds} s`);
    } finally {
      m.sh("nft delete table inet machines_egress; sed -i '/# machines suite stand-in$/d' /etc/hosts");
    }
  });

  it("destroy (the delete of every created command, in reverse) leaves no firewall and no unit of ours, the machine running", () => {
    for (const c of [...created].reverse()) {
      if (!c.inputs.delete) continue;
      const r = runCommand(c, "delete");
      assert.equal(r.status, 0, `${c.name} delete: ${r.stderr}`);
    }
    for (const h of hosts) {
      const m = h.machine;
      assert.notEqual(m.sh("nft list table inet oci_k8s").status, 0, `${m.name}: the firewall is removed`);
      assert.equal(m.sh("ls /etc/systemd/system | grep -i oci-k8s").stdout.trim(), "", `${m.name}: our units are removed`);
      // The machine keeps running, reachable as before.
      assert.equal(client.run(USER, m.address, h.hostKey, "true").status, 0);
    }
  });

  it("destroy after the failed first install also removes the token's /etc/rancher/k3s/config.yaml (issue 20 item 16)", () => {
    // vps-2's install failed at its download after writing the config with the token; vps-1's
    // went through the mirror (the stand-in's uninstaller ran too).
    assert.equal(byName("vps-1").machine.sh("test -e /usr/local/bin/k3s || test -e /etc/systemd/system/k3s.service").status, 1);
    for (const h of hosts)
      assert.equal(
        h.machine.sh("test -e /etc/rancher/k3s/config.yaml").status,
        1,
        `${h.machine.name}: the token's config is removed`,
      );
  });

  // The pin exists with a named internal API: apiAddress (here the one server's own address).
  it("kubeadm's endpoint pin in /etc/hosts survives a reboot of a host whose cloud-init has manage_etc_hosts: true (issue 20 item 10)", async () => {
    const h = byName("vps-1");
    const m = h.machine;
    const kubeadm = await runOk("machines-kubeadm", {
      ...stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.vps-kubeadm.yaml")),
      "oci-k8s:hostUser": USER,
      "oci-k8s:adminCidrs": [`${ADMIN}/32`],
      "oci-k8s:apiAddress": m.address,
      "oci-k8s:hosts": [{ name: m.name, role: "server", address: m.address, memoryGb: 4, hostKey: h.hostKey }],
    });
    assert.match(m.must("grep -c manage_etc_hosts /var/lib/cloud/seed/nocloud/user-data"), /1/);
    for (const c of engineOrder(kubeadm).filter((x) => ["prepare", "firewall", "wait", "drain", "install"].includes(stepOf(x)))) {
      const r = runCommand(c, "create", 300_000);
      // The install pins the endpoint first, then stops at its packages (no machine reaches pkgs.k8s.io).
      if (stepOf(c) !== "install") assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
    }
    const pin = m.must("grep 'oci-k8s control-plane endpoint' /etc/hosts").trim();
    assert.match(pin, new RegExp(`^\\S+ kube-api\\.\\S+\\.internal # oci-k8s control-plane endpoint$`));
    assert.ok(
      m.must("cat /etc/cloud/templates/hosts.debian.tmpl").includes(pin),
      "the pin is in the template cloud-init renders",
    );
    const { exitCode } = await m.reboot();
    assert.equal(exitCode, 133);
    // cloud-init rendered /etc/hosts again at this boot (cc_update_etc_hosts, every boot).
    m.must("cloud-init status --wait", 300_000);
    assert.ok(m.must("cat /etc/hosts").includes(pin), `the pin is gone after a reboot:\n${m.must("cat /etc/hosts")}`);
  });

  it("a host key changed between runs is refused before any command runs", () => {
    const h = hosts[0];
    const c = order.find((x) => x.name === `${h.machine.name}-prepare`)!;
    // The host is reinstalled (new key) while the stack still pins the old one.
    const fresh = keyPair(dir, "reinstalled");
    h.machine.write("etc/ssh/ssh_host_ed25519_key", fresh.privateKeyOpenssh, 0o600);
    h.machine.write("etc/ssh/ssh_host_ed25519_key.pub", fresh.publicKeyOpenssh);
    h.machine.must("systemctl restart ssh");
    h.machine.must("rm -f /tmp/ran");
    const r = client.run(USER, h.machine.address, c.inputs.connection.hostKey, "touch /tmp/ran");
    assert.equal(r.status, 255);
    assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    assert.equal(h.machine.sh("test -e /tmp/ran").status, 1, "nothing ran");
    void inSuite;
  });
});
