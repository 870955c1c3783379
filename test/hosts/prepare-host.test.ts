/**
 * prepare-host.sh, the host preparation of existing machines, run by real bash with exactly the
 * settings the program sends, against fake system binaries in a temporary root.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { encodeSettings } from "../../k8s/bootstrap/scripts";
import { HOST_READY_MARKER, modulesFile, sysctlFile } from "../../node-prep";
import { ROOT } from "../../scripts/mock-program";
import { HOST_RESOLV_CONF, prepareSettings } from "../../hosts";
import { calls, fakeBin, requireRoot, requireTool, run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";

const LIB = fs.readFileSync(path.join(ROOT, "k8s", "bootstrap", "scripts", "lib.sh"), "utf8");
const SCRIPT = fs.readFileSync(path.join(ROOT, "hosts", "scripts", "prepare-host.sh"), "utf8");

interface Machine {
  readonly os?: string;
  readonly resolved?: string;
  readonly resolvConf?: string;
  readonly timeSync?: boolean;
  readonly installed?: string[];
  /** Another firewall manager on the host: ufw active (or enabled at boot), firewalld running. */
  readonly ufw?: "active" | "enabled-at-boot" | "inactive";
  readonly firewalld?: boolean;
  /** blkid -p: 0 when the disk holds a filesystem, of this type (ext4 when only true). */
  readonly diskHasFs?: boolean | string;
}

function machine(m: Machine = {}) {
  const root = tempDir("prepare-host");
  const bin = path.join(root, "fake-bin");
  fs.mkdirSync(bin);
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  write("etc/os-release", m.os ?? 'ID=ubuntu\nVERSION_ID="24.04"\n');
  write("etc/fstab", "UUID=abc / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n");
  if (m.resolved !== undefined) write("run/systemd/resolve/resolv.conf", m.resolved);
  write("etc/resolv.conf", m.resolvConf ?? "nameserver 127.0.0.53\noptions edns0\n");
  for (const name of ["modprobe", "sysctl", "swapoff", "apt-get", "lsblk"]) fakeBin(bin, name);
  fakeBin(
    bin,
    "systemctl",
    `case "$*" in *firewalld*) exit ${m.firewalld ? 0 : 3} ;; esac\n${m.timeSync === false ? '[[ "$1" == is-active ]] && exit 3\n' : ""}exit 0`,
  );
  if (m.ufw) {
    // The first line of `ufw status`: "Status: active" or "Status: inactive"; ufw.conf's ENABLED=yes loads it at boot.
    fakeBin(bin, "ufw", `echo "Status: ${m.ufw === "active" ? "active" : "inactive"}"`);
    write("etc/ufw/ufw.conf", `ENABLED=${m.ufw === "inactive" ? "no" : "yes"}\nLOGLEVEL=low\n`);
  }
  fakeBin(
    bin,
    "dpkg-query",
    `case " ${(m.installed ?? []).join(" ")} " in *" \${@: -1} "*) echo -n "install ok installed"; exit 0 ;; esac\nexit 1`,
  );
  fakeBin(bin, "dpkg", `case " ${(m.installed ?? []).join(" ")} " in *" $2 "*) exit 0 ;; esac\nexit 1`);
  const fsType = m.diskHasFs === true ? "ext4" : m.diskHasFs;
  fakeBin(bin, "blkid", fsType ? `[[ " $* " == *" TYPE "* ]] && echo ${fsType}\nexit 0` : "exit 2");
  const env = { PATH: `${bin}:${systemTools(SCRIPT_TOOLS)}`, OCI_K8S_ROOT: root, OCI_K8S_RETRY_DELAY: "0" };
  return { root, bin, env, read: (file: string) => fs.readFileSync(path.join(root, file), "utf8") };
}

/** The settings hosts/index.ts sends for a host with these parts. */
const settings = (
  o: {
    DATA_DISK?: string;
    DATA_DISK_RAW?: string;
    UPSTREAM_DNS?: string;
    PACKAGES?: string;
    DISTRIBUTION?: "k3s" | "rke2" | "kubeadm";
  } = {},
) =>
  encodeSettings(
    prepareSettings(
      { dataDisk: o.DATA_DISK, rawDisk: o.DATA_DISK_RAW === "yes" },
      {
        upstreamDns: o.UPSTREAM_DNS?.split(" ") ?? [],
        packages: o.PACKAGES?.split(" ") ?? [],
        distribution: o.DISTRIBUTION ?? "k3s",
      },
    ),
  );

const prepare = (t: ReturnType<typeof machine>, input = settings()) =>
  run("bash", ["-c", `${LIB}\n${SCRIPT}`, "prepare-host"], { env: t.env, input });

const remove = (t: ReturnType<typeof machine>, input = settings()) =>
  run("bash", ["-c", `${LIB}\n${SCRIPT}`, "prepare-host", "remove"], { env: t.env, input });

/** Every file and directory under root but the fakes' (relative paths). */
const files = (root: string): string[] =>
  (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => !f.startsWith("fake-bin")).sort();

describe("prepare-host.sh (existing hosts, real bash, fake system)", () => {
  it("prepares an Ubuntu host: modules, sysctls, swap off, the resolved upstream for the kubelet, the marker last", () => {
    const t = machine({ resolved: "nameserver 10.0.0.2\nnameserver 10.0.0.3\n" });
    const r = prepare(t);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(t.read("etc/modules-load.d/oci-k8s.conf"), modulesFile());
    assert.equal(t.read("etc/sysctl.d/90-oci-k8s.conf"), sysctlFile());
    assert.equal(t.read(HOST_RESOLV_CONF.slice(1)), "nameserver 10.0.0.2\nnameserver 10.0.0.3\n");
    assert.match(t.read("etc/fstab"), /^# disabled by oci-k8s: \/swap.img none swap sw 0 0$/m);
    assert.ok(fs.existsSync(path.join(t.root, HOST_READY_MARKER)));
    const log = calls(t.bin);
    // swap.target masked too: a swap unit that is not in fstab (a swap file's, zram's) stays off after a reboot.
    for (const c of ["modprobe overlay", "modprobe br_netfilter", "sysctl --system", "swapoff -a", "systemctl mask swap.target"])
      assert.ok(log.includes(c), c);
    assert.ok(!log.some((c) => c.startsWith("apt-get")), "a host with time sync installs nothing");
  });

  it("changes nothing on a second run", () => {
    const t = machine({ resolved: "nameserver 10.0.0.2\n" });
    assert.equal(prepare(t).status, 0);
    const fstab = t.read("etc/fstab");
    const again = prepare(t);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /kernel modules set|kernel settings set|kubelet resolvers from/);
    assert.equal(t.read("etc/fstab"), fstab, "the swap line was commented twice");
  });

  it("remove (destroy) takes away every file apply wrote and gives the host its swap back; a second remove changes nothing", () => {
    const t = machine({ resolved: "nameserver 10.0.0.2\n" });
    // The directories every Ubuntu and Debian host has.
    for (const dir of ["etc/modules-load.d", "etc/sysctl.d", "etc/systemd/system", "var/lib"])
      fs.mkdirSync(path.join(t.root, dir), { recursive: true });
    const before = new Set(files(t.root));
    const fstab = t.read("etc/fstab");
    // data-volume.sh's drop-ins, as a data disk's apply leaves them.
    for (const service of ["k3s", "kubelet"])
      fs.mkdirSync(path.join(t.root, `etc/systemd/system/${service}.service.d`), { recursive: true });
    for (const service of ["k3s", "kubelet"])
      fs.writeFileSync(path.join(t.root, `etc/systemd/system/${service}.service.d/oci-k8s-data.conf`), "[Unit]\n");
    const r = prepare(t);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(t.root, HOST_READY_MARKER)));
    fakeBin(t.bin, "systemctl", `[[ "$*" == "is-enabled swap.target" ]] && echo masked\nexit 0`);
    const removed = remove(t);
    assert.equal(removed.status, 0, removed.stderr);
    assert.deepEqual(
      files(t.root).filter((f) => !before.has(f)),
      [],
      "left on the host: what apply wrote",
    );
    assert.equal(t.read("etc/fstab"), fstab, "the swap line the host had");
    assert.ok(calls(t.bin).includes("systemctl unmask swap.target"));
    const again = remove(t);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(t.read("etc/fstab"), fstab);
  });

  it("refuses an operating system it does not know, and writes no marker", () => {
    const t = machine({ os: 'ID=centos\nVERSION_ID="9"\n' });
    const r = prepare(t);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /runs 'centos 9'; supported: ubuntu 22.04, ubuntu 24.04, debian 12/);
    assert.ok(!fs.existsSync(path.join(t.root, HOST_READY_MARKER)));
  });

  it("accepts Debian 12 and takes a host's own non-loopback resolvers", () => {
    const t = machine({ os: 'ID=debian\nVERSION_ID="12"\n', resolvConf: "nameserver 192.0.2.53\n" });
    const r = prepare(t);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(t.read(HOST_RESOLV_CONF.slice(1)), "nameserver 192.0.2.53\n");
  });

  it("refuses a host with only the 127.0.0.53 stub unless upstreamDns names resolvers (the broken-DNS VPS)", () => {
    const stub = machine();
    const r = prepare(stub);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no upstream DNS resolver.*\n.*set upstreamDns/);
    const fixed = machine();
    const ok = prepare(fixed, settings({ UPSTREAM_DNS: "1.1.1.1 9.9.9.9" }));
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(fixed.read(HOST_RESOLV_CONF.slice(1)), "nameserver 1.1.1.1\nnameserver 9.9.9.9\n");
  });

  it("installs chrony only where no time sync runs, and the storage's packages only where missing", () => {
    const t = machine({ resolved: "nameserver 10.0.0.2\n", timeSync: false, installed: ["nfs-common"] });
    const r = prepare(t, settings({ PACKAGES: "open-iscsi nfs-common" }));
    assert.equal(r.status, 0, r.stderr);
    const installs = calls(t.bin).filter((c) => c.includes("install"));
    assert.ok(
      installs.some((c) => /apt-get .*install -y -qq chrony$/.test(c)),
      installs.join("\n"),
    );
    assert.ok(
      installs.some((c) => /apt-get .*install -y -qq open-iscsi$/.test(c)),
      installs.join("\n"),
    );
    assert.ok(!installs.some((c) => c.includes("nfs-common")));
  });

  it("refuses a host where ufw or firewalld would drop the cluster's traffic, before changing anything", () => {
    for (const [m, says] of [
      [
        { ufw: "active" },
        /FAILED: ufw is active .*\n.*try: turn it off for good \(sudo ufw disable\) and set hostFirewall: true/,
      ],
      [{ ufw: "enabled-at-boot" }, /FAILED: ufw is active \(or enabled at boot\)/],
      [
        { firewalld: true },
        /FAILED: firewalld is running .*\n.*try: stop and disable it \(sudo systemctl disable --now firewalld\)/,
      ],
    ] as const) {
      const t = machine({ resolved: "nameserver 10.0.0.2\n", ...m });
      const r = prepare(t);
      assert.equal(r.status, 1, JSON.stringify(m));
      assert.match(r.stderr, says);
      assert.ok(!fs.existsSync(path.join(t.root, "etc/sysctl.d/90-oci-k8s.conf")), "changed the host before refusing");
      assert.ok(!fs.existsSync(path.join(t.root, HOST_READY_MARKER)));
    }
    const inactive = machine({ resolved: "nameserver 10.0.0.2\n", ufw: "inactive" });
    assert.equal(prepare(inactive).status, 0, "an installed but inactive ufw is no obstacle");
  });

  it("kubeadm: refuses a host with Docker (docker-ce or containerd.io) before changing anything; k3s and RKE2 take it", () => {
    for (const pkg of ["docker-ce", "containerd.io"]) {
      const t = machine({ resolved: "nameserver 10.0.0.2\n", installed: [pkg] });
      const r = prepare(t, settings({ DISTRIBUTION: "kubeadm" }));
      assert.equal(r.status, 1, pkg);
      assert.match(r.stderr, new RegExp(`FAILED: this host runs Docker \\(${pkg.replace(".", "\\.")} installed\\)`));
      assert.match(r.stderr, /try: use a host without Docker, or distribution: k3s or rke2/);
      assert.ok(!calls(t.bin).some((c) => c.startsWith("apt-get")), "touched packages before refusing");
      assert.ok(!fs.existsSync(path.join(t.root, HOST_READY_MARKER)));
    }
    for (const distribution of ["k3s", "rke2"] as const) {
      const t = machine({ resolved: "nameserver 10.0.0.2\n", installed: ["docker-ce", "containerd.io"] });
      assert.equal(prepare(t, settings({ DISTRIBUTION: distribution })).status, 0, distribution);
    }
  });

  describe("a data disk to format (local-path, Longhorn)", () => {
    before(function () {
      requireRoot(this, "a block device node (mknod) stands in for the disk");
      requireTool(this, "mknod");
    });
    const withDisk = () => {
      const t = machine({ resolved: "nameserver 10.0.0.2\n" });
      fs.mkdirSync(path.join(t.root, "dev"), { recursive: true });
      run("mknod", [path.join(t.root, "dev", "sdb"), "b", "7", "240"]);
      // The disk holds no filesystem until mkfs (faked) made one; then blkid reads it back.
      fakeBin(
        t.bin,
        "blkid",
        `made="${t.root}/made-fs"; case " $* " in *" -L "*) exit 2 ;; *" -p "*) [[ -e "$made" ]] ;; *" UUID "*) echo 6f1c2a9e-0d1b-4c8e-9f6a-2b3c4d5e6f70 ;; *" TYPE "*) echo ext4 ;; esac`,
      );
      fakeBin(t.bin, "mkfs.ext4", `touch "${t.root}/made-fs"`);
      fakeBin(t.bin, "mount");
      fakeBin(t.bin, "mountpoint", "exit 1");
      fakeBin(t.bin, "findmnt", "echo /dev/sda1");
      fs.symlinkSync("/usr/bin/readlink", path.join(t.bin, "readlink"));
      return t;
    };

    it("formats exactly dataDisk, mounts it by UUID, and makes the distributions' services require the mount", () => {
      const t = withDisk();
      const r = prepare(t, settings({ DATA_DISK: "/dev/sdb" }));
      assert.equal(r.status, 0, r.stderr);
      assert.ok(calls(t.bin).includes(`mkfs.ext4 -q -L k8s-data -m 0 ${t.root}/dev/sdb`), calls(t.bin).join("\n"));
      assert.match(t.read("etc/fstab"), /^UUID=6f1c2a9e-0d1b-4c8e-9f6a-2b3c4d5e6f70 \/var\/mnt\/k8s-data ext4 defaults,nofail,/m);
      // A nofail mount that fails leaves an empty directory on the root filesystem: the services
      // that keep data there must not start on it (systemd.unit(5): RequiresMountsFor=).
      for (const service of ["k3s", "k3s-agent", "rke2-server", "rke2-agent", "kubelet"])
        assert.equal(
          t.read(`etc/systemd/system/${service}.service.d/oci-k8s-data.conf`),
          "[Unit]\nRequiresMountsFor=/var/mnt/k8s-data\n",
        );
    });

    it("fails at once when dataDisk is missing, never looking for another disk, and writes no marker", () => {
      const t = withDisk();
      const r = run("bash", ["-c", `${LIB}\n${SCRIPT}`, "prepare-host"], {
        env: t.env,
        input: settings({ DATA_DISK: "/dev/sdc" }),
        timeout: 20_000,
      });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /\/dev\/sdc is not a block device on this host/);
      const made = calls(t.bin);
      assert.ok(!made.some((c) => /^(mkfs|lsblk|mount )/.test(c)), made.join("\n"));
      assert.ok(!fs.existsSync(path.join(t.root, HOST_READY_MARKER)));
    });
  });

  describe("a raw disk for Rook-Ceph", () => {
    before(function () {
      requireRoot(this, "a block device node (mknod) stands in for the disk");
      requireTool(this, "mknod");
    });
    const withDisk = (m: Machine) => {
      const t = machine({ resolved: "nameserver 10.0.0.2\n", ...m });
      fs.mkdirSync(path.join(t.root, "dev"), { recursive: true });
      run("mknod", [path.join(t.root, "dev", "sdb"), "b", "7", "240"]);
      return t;
    };

    it("is left raw when empty", () => {
      const t = withDisk({});
      const r = prepare(t, settings({ DATA_DISK: "/dev/sdb", DATA_DISK_RAW: "yes" }));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /\/dev\/sdb left raw for Rook-Ceph/);
    });

    it("is refused when it holds a filesystem, and nothing is wiped", () => {
      const t = withDisk({ diskHasFs: true });
      const r = prepare(t, settings({ DATA_DISK: "/dev/sdb", DATA_DISK_RAW: "yes" }));
      assert.equal(r.status, 1);
      assert.match(r.stderr, /holds a filesystem or partition table; Rook-Ceph takes only an empty disk/);
      assert.ok(!calls(t.bin).some((c) => /wipefs|mkfs/.test(c)));
    });

    it("is left as it is on a later run, once Rook made an OSD of it (BlueStore or LVM)", () => {
      for (const type of ["ceph_bluestore", "LVM2_member"]) {
        const t = withDisk({ diskHasFs: type });
        const r = prepare(t, settings({ DATA_DISK: "/dev/sdb", DATA_DISK_RAW: "yes" }));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`already holds Ceph's data \\(${type}\\); left as it is`));
        assert.ok(!calls(t.bin).some((c) => /wipefs|mkfs/.test(c)));
      }
    });

    it("is refused when it is no block device", () => {
      const t = machine({ resolved: "nameserver 10.0.0.2\n" });
      const r = prepare(t, settings({ DATA_DISK: "/dev/sdz", DATA_DISK_RAW: "yes" }));
      assert.equal(r.status, 1);
      assert.match(r.stderr, /\/dev\/sdz is not a block device/);
    });
  });
});
