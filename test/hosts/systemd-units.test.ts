/**
 * Every systemd unit and drop-in the program writes, checked by systemd itself: each is written
 * by running the real script that writes it (in a temporary root), enabled with the real
 * `systemctl --root`, and loaded with `systemd-analyze verify` beside the units of a real Debian 12
 * with cloud-init (this machine's /lib/systemd/system: systemd 252, Debian's cloud-init package),
 * booting to default.target. systemd reports an ordering cycle as "Found ordering cycle" and breaks
 * it by deleting a job: on Debian 12 that was cloud-init.service (issue 20, item 9).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { renderCloudConfig } from "../../infra/cloud-init";
import { encodeSettings } from "../../k8s/bootstrap/scripts";
import { DATA_MOUNT_POINT } from "../../node-prep";
import { ROOT } from "../../scripts/mock-program";
import { KUBELET_SERVICE } from "../cluster/kube-files";
import { fakeBin, missing, must, requireTool, run, tempDir } from "../tools";

const LIB = fs.readFileSync(path.join(ROOT, "k8s/bootstrap/scripts/lib.sh"), "utf8");
const SYSTEM_UNITS = "/lib/systemd/system";
const UNIT_DIR = "etc/systemd/system";

/** The sources that write a unit or drop-in; each has a writer below. */
const WRITERS: Readonly<Record<string, (root: string) => void>> = {
  "hosts/scripts/host-firewall.sh": (root) => {
    const bin = tempDir("units-bin");
    fakeBin(bin, "systemctl");
    fakeBin(bin, "nft");
    const r = run("bash", ["-c", `${LIB}\n${read("hosts/scripts/host-firewall.sh")}`, "host-firewall", "apply"], {
      env: { PATH: `${bin}:${process.env.PATH}`, OCI_K8S_ROOT: root },
      input: encodeSettings({ RULESET: "table inet oci_k8s {\n}\n" }),
    });
    assert.equal(r.status, 0, r.stderr);
  },
  // Placed by the Oracle nodes' cloud-config (write_files), enabled by host prep.
  "infra/scripts/oci-k8s-metadata-guard.service": (root) => {
    const doc = parse(renderCloudConfig({ dataVolume: false }));
    for (const f of doc.write_files as { path: string; content: string }[]) {
      if (!f.path.startsWith("/etc/systemd/system/") && !f.path.startsWith("/etc/oci-k8s/")) continue;
      fs.mkdirSync(path.dirname(path.join(root, f.path)), { recursive: true });
      fs.writeFileSync(path.join(root, f.path), f.content);
    }
  },
  // containerHosts' drop-in for kubelet.service (kubeadm.sh's cgroup_root), beside kubelet.service
  // as Kubernetes' release packages ship it (the file an air-gapped install fetches as kubelet.service).
  "k8s/bootstrap/scripts/kubeadm.sh": (root) => {
    const cgroupRoot = /^cgroup_root\(\) \{[\s\S]*?^\}$/m.exec(read("k8s/bootstrap/scripts/kubeadm.sh"))![0];
    fs.mkdirSync(path.join(root, UNIT_DIR), { recursive: true });
    fs.writeFileSync(path.join(root, UNIT_DIR, "kubelet.service"), KUBELET_SERVICE);
    fs.mkdirSync(path.join(root, "usr/bin"), { recursive: true });
    fs.writeFileSync(path.join(root, "usr/bin/kubelet"), "#!/bin/sh\n", { mode: 0o755 });
    const bin = tempDir("units-bin");
    fakeBin(bin, "systemctl");
    const r = run("bash", ["-c", `${LIB}\n${cgroupRoot}\ncgroup_root`], {
      env: { PATH: `${bin}:${process.env.PATH}`, OCI_K8S_ROOT: root, CGROUP_ROOT: "/oci-k8s-vps-1" },
    });
    assert.equal(r.status, 0, r.stderr);
  },
  "node-prep/scripts/data-volume.sh": (root) => {
    // The disk and the mount are faked (blkid finds a filesystem, so nothing is formatted): what
    // matters here is the fstab line and the drop-ins it writes.
    const bin = tempDir("units-bin");
    fakeBin(
      bin,
      "blkid",
      `case " $* " in *" -L "*) exit 2 ;; *" UUID "*) echo 6f1c2a9e-0d1b-4c8e-9f6a-2b3c4d5e6f70 ;; *" TYPE "*) echo ext4 ;; esac`,
    );
    for (const name of ["mount", "mkfs.ext4", "lsblk"]) fakeBin(bin, name);
    fakeBin(bin, "mountpoint", "exit 1");
    const disk = path.join(root, "disk.img");
    fs.writeFileSync(disk, "");
    const r = run("bash", [path.join(ROOT, "node-prep/scripts/data-volume.sh"), DATA_MOUNT_POINT], {
      env: { PATH: `${bin}:${process.env.PATH}`, OCI_K8S_ROOT: root, OCI_K8S_DATA_DEVICE: disk },
    });
    assert.equal(r.status, 0, r.stderr);
  },
};

/**
 * Stand-ins for the distributions' own services, which the data volume's drop-ins extend (k3s's
 * and RKE2's installers and kubeadm's kubelet package write the real ones): named as such.
 */
const STAND_IN_SERVICES = ["k3s.service", "k3s-agent.service", "rke2-server.service", "rke2-agent.service", "kubelet.service"];

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/** A Debian 12 root as a cloud image boots it: cloud-init and systemd-networkd enabled. */
function debianRoot(): string {
  const root = tempDir("debian-units");
  fs.mkdirSync(path.join(root, "lib/systemd"), { recursive: true });
  must("cp", ["-a", SYSTEM_UNITS, path.join(root, "lib/systemd/")]);
  fs.mkdirSync(path.join(root, UNIT_DIR), { recursive: true });
  fs.writeFileSync(path.join(root, "etc/fstab"), "UUID=0a1b2c3d-0000-4000-8000-000000000001 / ext4 defaults 0 1\n");
  // The programs the units run, where Debian's packages put them (verify checks they exist).
  fs.mkdirSync(path.join(root, "usr/sbin"), { recursive: true });
  fs.copyFileSync("/usr/sbin/nft", path.join(root, "usr/sbin/nft"));
  for (const service of STAND_IN_SERVICES)
    fs.writeFileSync(
      path.join(root, "lib/systemd/system", service),
      `[Unit]\nDescription=stand-in for ${service} (test)\nWants=network-online.target\nAfter=network-online.target\n\n[Service]\nExecStart=/usr/sbin/nft --version\n\n[Install]\nWantedBy=multi-user.target\n`,
    );
  // cloud-init's generator links cloud-init.target into multi-user.target when cloud-init is on.
  fs.mkdirSync(path.join(root, UNIT_DIR, "multi-user.target.wants"), { recursive: true });
  fs.symlinkSync(`${SYSTEM_UNITS}/cloud-init.target`, path.join(root, UNIT_DIR, "multi-user.target.wants/cloud-init.target"));
  for (const unit of [
    "cloud-init-local.service",
    "cloud-init.service",
    "cloud-config.service",
    "cloud-final.service",
    "systemd-networkd.service",
    "systemd-networkd-wait-online.service",
  ])
    enable(root, unit);
  return root;
}

function enable(root: string, unit: string): void {
  must("systemctl", [`--root=${root}`, "enable", unit]);
}

/** systemd-analyze verify of the boot transaction and of each unit; its output. */
function verify(root: string, units: string[]) {
  // The mount units of the root's fstab (the data volume's), as systemd's fstab generator makes them at boot.
  const generated = tempDir("fstab-generator");
  must("/lib/systemd/system-generators/systemd-fstab-generator", [generated, generated, generated], {
    env: { SYSTEMD_FSTAB: path.join(root, "etc/fstab") },
  });
  must("cp", ["-a", `${generated}/.`, path.join(root, UNIT_DIR)]);
  const r = run("systemd-analyze", ["verify", `--root=${root}`, "default.target", ...units]);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The units and drop-ins (regular files, not enablement links) under etc/systemd/system, relative to it. */
function written(root: string): string[] {
  const dir = path.join(root, UNIT_DIR);
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /\.(service|mount|target|timer|socket|conf)$/.test(f) && fs.lstatSync(path.join(dir, f)).isFile())
    .sort();
}

describe("systemd units the program writes, verified by systemd beside Debian 12's cloud-init", function () {
  this.timeout(60_000);
  before(function () {
    requireTool(this, "systemd-analyze");
    requireTool(this, "systemctl");
    requireTool(this, "nft");
    if (!fs.existsSync(path.join(SYSTEM_UNITS, "cloud-init.service")))
      missing(this, "cloud-init's systemd units", "apt-get install cloud-init");
  });

  it("every file of the program that holds a [Unit] section has a writer here", () => {
    const files = must("git", ["-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard"])
      .split("\n")
      .filter((f) => f && !f.startsWith("test/") && !f.startsWith("docs/") && !f.endsWith(".md"))
      .filter((f) => fs.existsSync(path.join(ROOT, f)) && /\[(Unit|Service|Mount|Install)\]/.test(read(f)));
    assert.deepEqual(files.sort(), Object.keys(WRITERS).sort());
  });

  for (const [source, write] of Object.entries(WRITERS)) {
    it(`${source}: its units pass systemd-analyze verify and form no ordering cycle at boot`, () => {
      const root = debianRoot();
      const before = new Set(written(root));
      write(root);
      const units = written(root).filter((u) => !before.has(u));
      assert.ok(units.length > 0, `${source} wrote no unit`);
      const names = units.filter((u) => !u.includes("/"));
      for (const unit of names) enable(root, unit);
      // A drop-in is verified with the unit it extends, enabled as its installer would.
      const extended = [...new Set(units.filter((u) => u.includes("/")).map((u) => u.split("/")[0].replace(/\.d$/, "")))];
      for (const unit of extended) enable(root, unit);
      const r = verify(root, [...names, ...extended]);
      if (source.includes("data-volume"))
        assert.match(fs.readFileSync(path.join(root, "etc/fstab"), "utf8"), new RegExp(` ${DATA_MOUNT_POINT} ext4 .*nofail`));
      assert.doesNotMatch(r.output, /ordering cycle|deleted to break/i, r.output);
      assert.equal(r.status, 0, r.output);
      assert.equal(r.output.trim(), "", `systemd-analyze verify complained:\n${r.output}`);
    });
  }

  it("the check finds the cycle the old firewall unit made with cloud-init (negative control)", () => {
    const root = debianRoot();
    // The unit host-firewall.sh wrote before: default dependencies, before network-pre.target, wanted by multi-user.
    fs.writeFileSync(
      path.join(root, UNIT_DIR, "oci-k8s-firewall.service"),
      `[Unit]
Description=oci-k8s host firewall (nftables table inet oci_k8s)
Wants=network-pre.target
Before=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f /etc/oci-k8s/firewall.nft
ExecStop=/usr/sbin/nft delete table inet oci_k8s

[Install]
WantedBy=multi-user.target
`,
    );
    enable(root, "oci-k8s-firewall.service");
    const r = verify(root, ["oci-k8s-firewall.service"]);
    assert.match(r.output, /Found ordering cycle/);
    assert.match(r.output, /cloud-init\.service\/start/);
    spawnSync("rm", ["-rf", root]);
  });
});
