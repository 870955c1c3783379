/** Host preparation through real tools: cloud-init's schema validator, shellcheck, and the scripts run by bash. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { HOST_READY_MARKER, KERNEL_MODULES, renderCloudConfig, SYSCTLS } from "../../infra/cloud-init";
import { ROOT } from "../../scripts/mock-program";
import { calls, fakeBin, must, requireTool, run, tempDir } from "../tools";

const SCRIPTS = path.join(ROOT, "infra", "scripts");
const SHARED_SCRIPTS = path.join(ROOT, "node-prep", "scripts");

function allShellScripts(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name.startsWith(".")) return [];
    const full = path.join(dir, e.name);
    return e.isDirectory() ? allShellScripts(full) : e.name.endsWith(".sh") ? [full] : [];
  });
}

describe("cloud-init host preparation", () => {
  before(function () {
    requireTool(this, "cloud-init");
  });

  const hostKey = {
    privateKeyOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyForTheSchemaTest\n",
  };
  for (const [dataVolume, withHostKey] of [
    [false, false],
    [true, false],
    [true, true],
  ]) {
    it(`passes cloud-init schema (data volume: ${dataVolume}, pinned host key: ${withHostKey})`, () => {
      const dir = tempDir("cloud-config");
      const file = path.join(dir, "user-data.yaml");
      fs.writeFileSync(file, renderCloudConfig({ dataVolume, ...(withHostKey ? { hostKey } : {}) }));
      const r = run("cloud-init", ["schema", "--config-file", file]);
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, /Valid cloud-config/);
    });
  }

  it("the schema check really rejects a broken cloud-config (negative control)", () => {
    const dir = tempDir("cloud-config-bad");
    const file = path.join(dir, "user-data.yaml");
    const doc = parse(renderCloudConfig({ dataVolume: false }).replace("#cloud-config\n", ""));
    doc.ntp.enabled = "yes please";
    fs.writeFileSync(file, `#cloud-config\n${JSON.stringify(doc)}`);
    assert.notEqual(run("cloud-init", ["schema", "--config-file", file]).status, 0);
  });

  it("places the repository's scripts verbatim and runs only the host preparation entry point", () => {
    const doc = parse(renderCloudConfig({ dataVolume: true }));
    const files = Object.fromEntries(doc.write_files.map((f: { path: string; content: string }) => [f.path, f]));
    for (const [target, source] of [
      ["/usr/local/sbin/oci-k8s-firewall-fix", path.join(SCRIPTS, "oci-firewall-fix.sh")],
      ["/usr/local/sbin/oci-k8s-data-volume", path.join(SHARED_SCRIPTS, "data-volume.sh")],
      ["/usr/local/sbin/oci-k8s-host-prep", path.join(SCRIPTS, "host-prep.sh")],
    ]) {
      assert.equal(files[target].content, fs.readFileSync(source, "utf8"));
      assert.equal(files[target].permissions, "0755");
    }
    for (const [target, source] of [
      ["/etc/oci-k8s/metadata-guard.nft", path.join(SCRIPTS, "metadata-guard.nft")],
      ["/etc/systemd/system/oci-k8s-metadata-guard.service", path.join(SCRIPTS, "oci-k8s-metadata-guard.service")],
    ]) {
      assert.equal(files[target].content, fs.readFileSync(source, "utf8"));
      assert.equal(files[target].permissions, "0644");
    }
    assert.ok(doc.packages.includes("nftables"), "nft loads the metadata guard");
    assert.deepEqual(doc.runcmd, [["/usr/local/sbin/oci-k8s-host-prep"]]);
    assert.equal(files["/etc/modules-load.d/oci-k8s.conf"].content, KERNEL_MODULES.map((m) => `${m}\n`).join(""));
    assert.match(files["/etc/sysctl.d/90-oci-k8s.conf"].content, /net\.bridge\.bridge-nf-call-iptables = 1\n/);
    assert.match(files["/etc/sysctl.d/90-oci-k8s.conf"].content, /net\.ipv4\.ip_forward = 1\n/);
    assert.equal(Object.keys(SYSCTLS).length, files["/etc/sysctl.d/90-oci-k8s.conf"].content.trim().split("\n").length);
    assert.match(files["/etc/apt/apt.conf.d/20auto-upgrades"].content, /Unattended-Upgrade "1"/);
    assert.match(files["/etc/apt/apt.conf.d/52oci-k8s-unattended-upgrades"].content, /Automatic-Reboot "false"/);
    assert.deepEqual(doc.ntp, { enabled: true, ntp_client: "chrony", servers: ["169.254.169.254"] });
    assert.ok(doc.packages.includes("unattended-upgrades") && doc.packages.includes("chrony"));
  });
});

describe("shell scripts", () => {
  it("every *.sh in the repository is shellcheck-clean and strict", function () {
    requireTool(this, "shellcheck");
    const scripts = allShellScripts();
    assert.ok(scripts.length >= 3);
    must("shellcheck", ["--severity=style", ...scripts]);
    for (const s of scripts) assert.match(fs.readFileSync(s, "utf8"), /^set -euo pipefail$/m, `${s} is not strict`);
  });
});

describe("host-prep.sh (fake system binaries)", () => {
  function setup(firewallExit = 0) {
    const dir = tempDir("host-prep");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const name of ["systemctl", "sysctl", "swapoff", "nft"]) fakeBin(bin, name);
    fakeBin(bin, "oci-k8s-firewall-fix", `exit ${firewallExit}`);
    fakeBin(bin, "oci-k8s-data-volume");
    const marker = path.join(dir, "state", "host-ready");
    const env = path.join(dir, "node.env");
    fs.writeFileSync(env, `DATA_VOLUME=yes\nDATA_MOUNT_POINT=/var/mnt/k8s-data\nREADY_MARKER=${marker}\n`);
    const fstab = path.join(dir, "fstab");
    fs.writeFileSync(fstab, "LABEL=cloudimg-rootfs / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n");
    const vars = { PATH: `${bin}:${process.env.PATH}`, OCI_K8S_NODE_ENV: env, OCI_K8S_BIN_DIR: bin, OCI_K8S_FSTAB: fstab };
    return { dir, bin, marker, fstab, vars };
  }

  it("runs every step in order and writes the ready marker last; a second run is harmless", () => {
    const t = setup();
    for (let i = 0; i < 2; i++) {
      const r = run("bash", [path.join(SCRIPTS, "host-prep.sh")], { env: t.vars });
      assert.equal(r.status, 0, r.stderr);
    }
    const log = calls(t.bin);
    assert.deepEqual(log.slice(0, 10), [
      "systemctl restart systemd-modules-load.service",
      "sysctl --system",
      "swapoff -a",
      "oci-k8s-firewall-fix ",
      "systemctl daemon-reload",
      "systemctl enable oci-k8s-metadata-guard.service",
      "systemctl restart oci-k8s-metadata-guard.service",
      "nft list table ip oci_k8s_metadata",
      "oci-k8s-data-volume /var/mnt/k8s-data",
      "systemctl enable --now chrony.service unattended-upgrades.service",
    ]);
    assert.ok(fs.existsSync(t.marker));
    const fstab = fs.readFileSync(t.fstab, "utf8");
    assert.match(fstab, /^# disabled by oci-k8s: \/swapfile none swap sw 0 0$/m);
    assert.equal(fstab.match(/disabled by oci-k8s/g)!.length, 1, "the swap line was commented twice");
  });

  it("writes no marker when a step fails, so the bootstrap never starts on a half-prepared host", () => {
    const t = setup(3);
    const r = run("bash", [path.join(SCRIPTS, "host-prep.sh")], { env: t.vars });
    assert.equal(r.status, 3);
    assert.equal(fs.existsSync(t.marker), false);
    assert.ok(!calls(t.bin).some((c) => c.startsWith("oci-k8s-data-volume")));
  });

  it("the marker path is the one the program exports", () => {
    assert.match(renderCloudConfig({ dataVolume: false }), new RegExp(`READY_MARKER=${HOST_READY_MARKER}`));
  });
});

describe("data-volume.sh (a real ext4 image, fake mount)", () => {
  before(function () {
    requireTool(this, "mkfs.ext4");
    requireTool(this, "blkid");
  });

  function setup() {
    const dir = tempDir("data-volume");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const mounted = path.join(dir, "mounted");
    // Only mount and discovery are faked: the image is formatted and read by the real e2fsprogs
    // and blkid. lsblk finds no disk, so nothing on this machine can be picked up by mistake.
    fakeBin(bin, "mount", `touch "${mounted}"`);
    fakeBin(bin, "mountpoint", `[[ -e "${mounted}" ]]`);
    fakeBin(bin, "lsblk", "exit 0");
    fakeBin(bin, "findmnt", "echo /dev/fake-root1");
    const realBlkid = must("sh", ["-c", "command -v blkid"]).trim();
    fakeBin(bin, "blkid", `[[ "$1" == "-L" ]] && exit 2\nexec ${realBlkid} "$@"`);
    const image = path.join(dir, "disk.img");
    fs.writeFileSync(image, Buffer.alloc(0));
    fs.truncateSync(image, 16 * 1024 * 1024);
    const link = path.join(dir, "oraclevdb");
    fs.symlinkSync(image, link);
    const fstab = path.join(dir, "fstab");
    fs.writeFileSync(fstab, "LABEL=cloudimg-rootfs / ext4 defaults 0 1\n");
    const mountPoint = path.join(dir, "mnt", "data");
    const env = {
      PATH: `${bin}:${process.env.PATH}`,
      OCI_K8S_DATA_DEVICE: link,
      OCI_K8S_FSTAB: fstab,
      OCI_K8S_DATA_VOLUME_TIMEOUT: "0",
      // The drop-ins it writes for the distributions' services go here, not into this machine's /etc.
      OCI_K8S_UNIT_DIR: path.join(dir, "units"),
    };
    const script = () => run("bash", [path.join(SHARED_SCRIPTS, "data-volume.sh"), mountPoint], { env });
    const uuid = () => must("blkid", ["-s", "UUID", "-o", "value", image]).trim();
    return { dir, bin, image, fstab, mountPoint, env, script, uuid };
  }

  it("formats a blank volume once, mounts it by UUID, and never formats it again", () => {
    const t = setup();
    const first = t.script();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /formatting .* \(first use\)/);
    const uuid = t.uuid();
    assert.equal(must("blkid", ["-s", "LABEL", "-o", "value", t.image]).trim(), "k8s-data");
    const line = `UUID=${uuid} ${t.mountPoint} ext4 defaults,nofail,x-systemd.device-timeout=60s 0 2`;
    assert.ok(fs.readFileSync(t.fstab, "utf8").includes(line));

    const second = t.script();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /already holds a filesystem; keeping it/);
    assert.equal(t.uuid(), uuid, "the volume was formatted again");
    assert.equal(fs.readFileSync(t.fstab, "utf8").split(line).length, 2, "fstab line duplicated");
    assert.deepEqual(
      calls(t.bin).filter((c) => c.startsWith("mount ")),
      [`mount ${t.mountPoint}`],
    );
  });

  it("keeps a filesystem it did not make (never reformats user data)", () => {
    const t = setup();
    must("mkfs.ext4", ["-q", "-L", "precious", t.image]);
    const uuid = t.uuid();
    const r = t.script();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(t.uuid(), uuid);
    assert.equal(must("blkid", ["-s", "LABEL", "-o", "value", t.image]).trim(), "precious");
  });

  it("fails with advice when no volume appears", () => {
    const t = setup();
    fs.unlinkSync(path.join(t.dir, "oraclevdb"));
    const r = t.script();
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no data volume appeared after 0s; check the volume attachment/);
  });
});
