/**
 * Oracle Cloud nodes, booted for real: each machine boots with the user data the program registers
 * for its instance (dev stack, under the mock runtime) through cloud-init's NoCloud datasource, with
 * Oracle's Ubuntu image firewall (test/fixtures/oci-ubuntu-rules.v4, a copy of
 * shared/reference/oci-ubuntu-rules.v4) in /etc/iptables/rules.v4 for netfilter-persistent to load
 * at boot, and its data volume a loop device at Oracle's consistent device path. Debian 12 stands in
 * for Oracle's Ubuntu image (Ubuntu's archive is not reachable here); the hypervisor, iSCSI and the
 * metadata service are not Oracle's.
 *
 * One change to the registered user data: the mock runtime's host key is a placeholder sshd cannot
 * load, so the key pair is swapped for a real one, and the test pins that one's public half, as the
 * program pins `hostPublicKey`. Everything else is byte for byte what the program registers.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import {
  DATA_DEVICE,
  DATA_MOUNT_POINT,
  HOST_READY_MARKER,
  METADATA_GUARD_TABLE,
  METADATA_GUARD_UNIT,
  SYSCTLS,
} from "../../infra/cloud-init";
import { ROOT, runOk, stackConfig } from "../../scripts/mock-program";
import { must, requireRoot, requireTool, tempDir } from "../tools";
import { createSuiteNetwork, destroySuiteNetwork, Machine, rootfs, waitFor } from "./machine";
import { keyPair, SshClient } from "./ssh";
import { noFailedUnit, noOrderingCycle, verifyOurUnits } from "./checks";

const INSTANCE = "oci:Core/instance:Instance";
const RULES = path.join(ROOT, "test", "fixtures", "oci-ubuntu-rules.v4");
const REJECT = "-j REJECT --reject-with icmp-host-prohibited";
/** Debian's cloud-init default user (Ubuntu's is `ubuntu`); it gets the instance's ssh_authorized_keys. */
const USER = "debian";

interface Node {
  readonly machine: Machine;
  readonly hostKey: string;
  readonly dataVolume: boolean;
}

describe("Oracle Cloud nodes booted for real (systemd-nspawn, cloud-init NoCloud, dev's user data)", function () {
  this.timeout(600_000);
  const nodes: Node[] = [];
  let dir = "";
  let client: SshClient;
  const uuidBefore: Record<string, string> = {};

  before(async function () {
    requireRoot(this, "network namespaces, loop devices and systemd-nspawn need root");
    for (const tool of ["systemd-nspawn", "debootstrap", "nsenter", "losetup", "ssh", "ssh-keyscan", "ip"])
      requireTool(this, tool);
    const image = rootfs();
    dir = tempDir("oracle-nodes");
    client = new SshClient(dir);
    const plan = await runOk("dev", { ...stackConfig("dev"), "oci-k8s:sshPublicKey": client.publicKey });
    createSuiteNetwork();
    // The A1 server (with its data volume) and one micro agent (without): both cloud-configs the
    // program writes. micro-2's is micro-1's with another key.
    for (const [name, host] of [
      ["server-1", 11],
      ["micro-1", 12],
    ] as const) {
      const instance = plan.resources.find((r) => r.type === INSTANCE && r.name.endsWith(name));
      assert.ok(instance, `dev registers an instance for ${name}`);
      const doc = parse(Buffer.from(instance.inputs.metadata.user_data, "base64").toString("utf8"));
      const key = keyPair(dir, `${name}-host`);
      assert.match(doc.ssh_keys.ed25519_private, /mock-private-key/);
      doc.ssh_keys = { ed25519_private: key.privateKeyOpenssh, ed25519_public: key.publicKeyOpenssh.trim() };
      const env = doc.write_files.find((f: { path: string }) => f.path === "/etc/oci-k8s/node.env");
      const dataVolume = /^DATA_VOLUME=yes$/m.test(env.content);
      const machine = new Machine(name, { host, diskMb: dataVolume ? 256 : undefined, diskPath: DATA_DEVICE });
      nodes.push({ machine, hostKey: key.publicKeyOpenssh.split(" ").slice(0, 2).join(" "), dataVolume });
      machine.create(image);
      machine.write("var/lib/cloud/seed/nocloud/user-data", `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`);
      machine.write(
        "var/lib/cloud/seed/nocloud/meta-data",
        stringify({
          "instance-id": `ocid1.instance.oc1.eu-frankfurt-1.${name}`,
          "local-hostname": name,
          "public-keys": [instance.inputs.metadata.ssh_authorized_keys],
        }),
      );
      // Oracle's image firewall, loaded at boot by netfilter-persistent as on the image.
      machine.write("etc/iptables/rules.v4", fs.readFileSync(RULES, "utf8"));
      // The suite gives each machine its address from outside; cloud-init leaves the network alone.
      machine.write("etc/cloud/cloud.cfg.d/91-machines-network.cfg", "network: {config: disabled}\n");
    }
    await Promise.all(nodes.map((n) => n.machine.boot()));
    for (const n of nodes) {
      const r = n.machine.sh("cloud-init status --wait --long", { timeout: 300_000 });
      assert.equal(
        r.status,
        0,
        `${n.machine.name}: cloud-init did not finish cleanly:\n${r.stdout}\n${r.stderr}\n${n.machine.sh("grep -v ci-info /var/log/cloud-init-output.log | tail -n 25").stdout}`,
      );
    }
  });

  after(async () => {
    for (const n of nodes) {
      if (n.machine.leader)
        console.log(
          `      ${n.machine.name}: ${Math.round(n.machine.residentMemory() / 2 ** 20)} MiB resident (sum of its processes' RSS)`,
        );
    }
    await Promise.all(nodes.map((n) => n.machine.destroy()));
    destroySuiteNetwork();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function checkNode(n: Node, boot: string): void {
    const m = n.machine;
    // The pinned key is the one sshd serves, and the client refuses any other.
    assert.equal(client.scan(m.address), n.hostKey, `${m.name} (${boot}): sshd serves the pinned key`);
    const ok = client.run(USER, m.address, n.hostKey, "sudo -n true");
    assert.equal(ok.status, 0, `${m.name} (${boot}): ${ok.stderr}`);
    const other = keyPair(dir, `${m.name}-other-${boot}`).publicKeyOpenssh.split(" ").slice(0, 2).join(" ");
    const refused = client.run(USER, m.address, other, "true");
    assert.equal(refused.status, 255);
    assert.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    // The image firewall was loaded, and the fix holds: no catch-all REJECT live or saved, InstanceServices intact.
    const live = m.must("iptables -w -S");
    assert.match(live, /-A OUTPUT .*-j InstanceServices/, `${m.name} (${boot}): Oracle's rules are loaded`);
    assert.ok(!live.includes(REJECT), `${m.name} (${boot}): a REJECT rule is live:\n${live}`);
    assert.ok(!m.must("cat /etc/iptables/rules.v4").includes(REJECT));
    assert.match(m.must("cat /etc/iptables/rules.v4"), /-A InstanceServices/);
    // Pods are kept off the metadata service: the guard's table is loaded (by its unit at boot),
    // exactly the rules of the file cloud-init wrote, and nothing else is changed of Oracle's rules.
    assert.equal(m.must(`systemctl is-enabled ${METADATA_GUARD_UNIT}`).trim(), "enabled", `${m.name} (${boot})`);
    assert.equal(m.must(`systemctl is-active ${METADATA_GUARD_UNIT}`).trim(), "active", `${m.name} (${boot})`);
    const guard = m.must(`nft list table ${METADATA_GUARD_TABLE}`);
    assert.match(guard, /type filter hook forward priority filter - 10; policy accept;/, `${m.name} (${boot}):\n${guard}`);
    assert.match(guard, /ip daddr 169\.254\.169\.254 meta l4proto \{ tcp, udp \} th dport 53 accept/);
    assert.match(guard, /ip daddr 169\.254\.0\.0\/16 (meta l4proto tcp )?reject with tcp reset/);
    assert.match(guard, /ip daddr 169\.254\.0\.0\/16 reject with icmp (type )?admin-prohibited/);
    // Sysctls: net.* in force in the machine's namespace; the others (the host kernel's, which a
    // machine may not change) written to their file.
    const file = m.must("cat /etc/sysctl.d/90-oci-k8s.conf");
    for (const [key, value] of Object.entries(SYSCTLS)) {
      assert.ok(file.includes(`${key} = ${value}\n`), `${key} in its file`);
      if (key.startsWith("net.")) assert.equal(m.must(`sysctl -n ${key}`).trim(), value, `${m.name} (${boot}): ${key}`);
    }
    assert.match(m.must(`cat ${HOST_READY_MARKER}`), /^\d{4}-\d\d-\d\dT/);
    verifyOurUnits(m);
    noOrderingCycle(m);
    noFailedUnit(m, boot);
  }

  it("after the first boot: pinned host key, firewall fix, metadata guard, data volume, sysctls, marker, units", () => {
    for (const n of nodes) {
      checkNode(n, "first boot");
      if (!n.dataVolume) continue;
      const m = n.machine;
      const uuid = must("blkid", ["-p", "-s", "UUID", "-o", "value", m.loop!]).trim();
      assert.match(uuid, /^[0-9a-f-]{36}$/, "the data volume was formatted");
      uuidBefore[m.name] = uuid;
      assert.match(m.must("cat /etc/fstab"), new RegExp(`^UUID=${uuid} ${DATA_MOUNT_POINT} ext4 .*nofail`, "m"));
      // Mounted from the volume (the device's numbers: inside it is Oracle's consistent path).
      assert.equal(m.must(`findmnt -no MAJ:MIN ${DATA_MOUNT_POINT}`).trim(), must("lsblk", ["-dno", "MAJ:MIN", m.loop!]).trim());
      m.must(`echo kept > ${DATA_MOUNT_POINT}/before-reboot`);
    }
  });

  it("after a reboot (systemctl reboot, nspawn exits 133, started again): all of it still holds", async () => {
    for (const n of nodes) {
      const { exitCode } = await n.machine.reboot();
      assert.equal(exitCode, 133, `${n.machine.name}: nspawn's exit status on reboot`);
      await waitFor(`${n.machine.name}'s sshd`, 60_000, () => (client.scan(n.machine.address) ? true : undefined));
    }
    for (const n of nodes) {
      checkNode(n, "after reboot");
      if (!n.dataVolume) continue;
      const m = n.machine;
      // Formatted once: the same filesystem, with what was written before the reboot. systemd in a
      // container ignores fstab's device entries (systemd src/fstab-generator/fstab-generator.c,
      // "Running in a container, ignoring fstab device entry"), so the mount at boot is the
      // hypervisor's business; the fstab line by UUID mounts it.
      assert.equal(must("blkid", ["-p", "-s", "UUID", "-o", "value", m.loop!]).trim(), uuidBefore[m.name]);
      if (m.sh(`mountpoint -q ${DATA_MOUNT_POINT}`).status !== 0) m.must(`mount ${DATA_MOUNT_POINT}`);
      assert.equal(m.must(`cat ${DATA_MOUNT_POINT}/before-reboot`), "kept\n");
      // And running host prep again (a re-run of cloud-init's script) formats nothing.
      m.must("/usr/local/sbin/oci-k8s-data-volume " + DATA_MOUNT_POINT, 60_000);
      assert.equal(m.must(`cat ${DATA_MOUNT_POINT}/before-reboot`), "kept\n");
    }
  });
});
