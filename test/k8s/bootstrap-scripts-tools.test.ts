/**
 * The bootstrap scripts run for real under bash, exactly as sent to a node (lib.sh + script, as
 * `bash -c`), against fake distribution binaries on PATH that record their calls and can be
 * told to fail. Files the scripts write land under OCI_K8S_ROOT, a temp dir.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fakeBin, run } from "../tools";
import { Sandbox, sandbox } from "./bootstrap-scripts.fixtures";

describe("bootstrap scripts: the node scripts' apt waits for dpkg's lock (lib.sh apt_get, apt_mark)", () => {
  /** apt-get that reports dpkg's lock held for its first `busy` calls, as while unattended upgrades run. */
  const lockedApt = (s: Sandbox, busy: number) =>
    fakeBin(
      s.bin,
      "apt-get",
      `n=$(( $(cat "$FAKE_STATE/apt" 2>/dev/null || echo 0) + 1 )); echo $n > "$FAKE_STATE/apt"
if (( n <= ${busy} )); then echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)" >&2; exit 100; fi`,
    );
  const LIB = fs.readFileSync(path.join(__dirname, "../../k8s/bootstrap/scripts/lib.sh"), "utf8");
  const aptRuns = (s: Sandbox) => s.calls().filter((c) => c.startsWith("apt-get"));

  it("kubeadm's install waits out a held lock, saying who holds it, and then installs, every run bounded", () => {
    const s = sandbox();
    lockedApt(s, 3);
    for (const name of ["apt-mark", "gpg", "curl", "containerd", "kubeadm", "kubectl"]) fakeBin(s.bin, name);
    const r = s.run("kubeadm", ["join"], { VERSION: "v1.34.9", CONFIG: "kind: JoinConfiguration" });
    assert.match(
      r.stderr,
      /\/var\/lib\/dpkg\/lock-frontend is held by process 812 \(unattended-upgr\) \(another apt run\); waiting/,
    );
    const runs = aptRuns(s);
    assert.ok(runs.length > 3, runs.join("\n"));
    assert.ok(
      runs.every((c) =>
        c.startsWith(
          "apt-get -o DPkg::Lock::Timeout=0 -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=3 ",
        ),
      ),
      runs.join("\n"),
    );
    assert.ok(
      runs.some((c) => c.includes(" install -y -q containerd")),
      runs.join("\n"),
    );
  });

  it("apt_mark waits out dpkg's own words for its frontend lock (dpkg 1.21), then holds the packages", () => {
    const s = sandbox();
    fakeBin(
      s.bin,
      "apt-mark",
      `n=$(( $(cat "$FAKE_STATE/mark" 2>/dev/null || echo 0) + 1 )); echo $n > "$FAKE_STATE/mark"
if (( n <= 2 )); then echo "dpkg: error: dpkg frontend lock was locked by another process with pid 812" >&2; exit 100; fi
echo "kubelet set on hold."`,
    );
    const r = run("bash", ["-c", `${LIB}\napt_mark hold kubelet`], {
      env: { PATH: `${s.bin}:${process.env.PATH}`, FAKE_STATE: s.state, OCI_K8S_RETRY_DELAY: "0.2" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\/var\/lib\/dpkg\/lock-frontend is held by process with pid 812 \(another apt run\); waiting/);
    assert.match(r.stderr, /kubelet set on hold\./);
    assert.deepEqual(
      s.calls().filter((c) => c.startsWith("apt-mark")),
      ["apt-mark hold kubelet", "apt-mark hold kubelet", "apt-mark hold kubelet"],
    );
  });
});

describe("bootstrap scripts: lib.sh apt_get (the host preparation's apt) waits for apt's lock with a line, within its bound", () => {
  const LIB = fs.readFileSync(path.join(__dirname, "../../k8s/bootstrap/scripts/lib.sh"), "utf8");
  /** apt-get that reports dpkg's lock held for its first `busy` calls (apt 2.6's words), as while unattended upgrades run. */
  const lockedApt = (s: Sandbox, busy: number) =>
    fakeBin(
      s.bin,
      "apt-get",
      `n=$(( $(cat "$FAKE_STATE/apt" 2>/dev/null || echo 0) + 1 )); echo $n > "$FAKE_STATE/apt"
if (( n <= ${busy} )); then echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)"; echo "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?"; exit 100; fi
echo "Setting up chrony"`,
    );
  const aptGet = (s: Sandbox, wait?: string) =>
    run("bash", ["-c", `${LIB}\napt_get install -y -qq chrony`], {
      env: {
        PATH: `${s.bin}:${process.env.PATH}`,
        FAKE_STATE: s.state,
        OCI_K8S_RETRY_DELAY: "0.2",
        ...(wait ? { OCI_K8S_APT_LOCK_WAIT: wait } : {}),
      },
    });

  it("says at once which lock is held and by whom, waits, then installs", () => {
    const s = sandbox();
    lockedApt(s, 3);
    const r = aptGet(s);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^\[oci-k8s\] \/var\/lib\/dpkg\/lock-frontend is held by process 812 \(unattended-upgr\) \(another apt run\); waiting \(\d+s so far, at most 600s\)$/m,
    );
    assert.match(r.stderr, /Setting up chrony/);
    const runs = s.calls().filter((c) => c.startsWith("apt-get"));
    assert.equal(runs.length, 4);
    const bounded =
      "apt-get -o DPkg::Lock::Timeout=0 -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=3";
    assert.ok(
      runs.every((c) => c === `${bounded} install -y -qq chrony`),
      runs.join("\n"),
    );
  });

  it("stops a run after OCI_K8S_APT_TIME seconds, saying so (status 124)", () => {
    const s = sandbox();
    fakeBin(s.bin, "apt-get", "sleep 30");
    const started = Date.now();
    const r = run("bash", ["-c", `${LIB}\napt_get install -y -qq chrony`], {
      env: { PATH: `${s.bin}:${process.env.PATH}`, OCI_K8S_APT_TIME: "1" },
    });
    assert.equal(r.status, 124);
    assert.match(r.stderr, /apt-get install -y -qq chrony did not finish within 1s; stopped/);
    assert.ok(Date.now() - started < 10_000);
  });

  it("fails after OCI_K8S_APT_LOCK_WAIT seconds naming the lock and its holder, and retries no other failure", () => {
    const s = sandbox();
    lockedApt(s, 1_000_000);
    const started = Date.now();
    const r = aptGet(s, "2");
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /FAILED: \/var\/lib\/dpkg\/lock-frontend was held by process 812 \(unattended-upgr\) for 2s, this step's bound for apt's lock/,
    );
    assert.match(r.stderr, /try: another apt run \(unattended-upgrades, apt-daily\) is still busy/);
    assert.ok(Date.now() - started < 10_000, "the wait is bounded");
    const other = sandbox();
    fakeBin(other.bin, "apt-get", `echo "E: Unable to locate package chrony"; exit 100`);
    const missing = aptGet(other);
    assert.equal(missing.status, 100);
    assert.match(missing.stderr, /Unable to locate package chrony/);
    assert.equal(other.calls().filter((c) => c.startsWith("apt-get")).length, 1, "a failure other than the lock is not retried");
  });
});

describe("bootstrap scripts: kernel-hold.sh", () => {
  it("holds the installed kernel packages, and releases only held kernel packages", () => {
    const s = sandbox();
    fakeBin(
      s.bin,
      "dpkg-query",
      `printf 'ii  linux-image-6.8.0-1013-oracle\\nii  linux-oracle\\nrc  linux-image-6.8.0-1009-oracle\\nii  linux-modules-6.8.0-1013-oracle\\nii  linux-firmware\\n'`,
    );
    fakeBin(s.bin, "uname", "echo 6.8.0-1013-oracle");
    fakeBin(
      s.bin,
      "apt-mark",
      `[[ "$1" == showhold ]] && printf 'linux-oracle\\nlinux-image-6.8.0-1013-oracle\\nnginx\\n'; exit 0`,
    );
    const held = s.run("kernel-hold", ["hold"]);
    assert.equal(held.status, 0, held.stderr);
    assert.ok(
      s.calls().includes("apt-mark hold linux-image-6.8.0-1013-oracle linux-oracle linux-modules-6.8.0-1013-oracle"),
      s.calls().join("\n"),
    );
    assert.match(held.stderr, /kernel 6\.8\.0-1013-oracle held \(3 packages\)/);
    const released = s.run("kernel-hold", ["release"]);
    assert.equal(released.status, 0, released.stderr);
    assert.ok(
      s.calls().includes("apt-mark unhold linux-oracle linux-image-6.8.0-1013-oracle"),
      "released a package that is not the kernel",
    );
  });
});
