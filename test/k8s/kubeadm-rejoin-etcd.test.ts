/**
 * kubeadm.sh rejoin-material against a real etcd 3.6 (tools/etcd/bin, built from the etcd Go
 * modules): three members on loopback addresses, cp-1's stopped as a replaced machine's would be.
 * The step reads the real `etcdctl member list` output, finds cp-1's member by name, sees its
 * client URL not answer `endpoint health`, and removes it, so `kubeadm join` meets a healthy
 * two-member etcd. kubectl is a stand-in whose `exec <etcd pod> -- etcdctl` runs the real etcdctl
 * (plain http: the test's etcd has no TLS, so the pod's certificate flags are dropped).
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fakeBin, requireFile, tempDir } from "../tools";
import { kubeadmSandbox } from "./bootstrap-scripts.fixtures";
import { REPO } from "./etcd.fixtures";

const TOOLS = path.join(REPO, "tools/etcd/bin");
const NET = `127.${100 + (process.pid % 100)}.${Math.floor(process.pid / 100) % 250}`;
const ip = (n: number) => `${NET}.${70 + n}`;
const NAMES = ["cp-1", "cp-2", "cp-3"];

describe("kubeadm.sh rejoin-material: the dead member of a real etcd", function () {
  this.timeout(120_000);
  const members: ChildProcess[] = [];
  const etcdctl = (...args: string[]) =>
    spawnSync(path.join(TOOLS, "etcdctl"), [`--endpoints=http://${ip(2)}:2379`, ...args], { encoding: "utf8" });

  before(async function () {
    for (const name of ["etcd", "etcdctl"]) requireFile(this, path.join(TOOLS, name), "run tools/etcd/build.sh");
    const cluster = NAMES.map((n, i) => `${n}=http://${ip(i + 1)}:2380`).join(",");
    const dir = tempDir("rejoin-etcd");
    for (const [i, name] of NAMES.entries()) {
      members.push(
        spawn(
          path.join(TOOLS, "etcd"),
          [
            `--name=${name}`,
            `--data-dir=${path.join(dir, name)}`,
            `--listen-peer-urls=http://${ip(i + 1)}:2380`,
            `--initial-advertise-peer-urls=http://${ip(i + 1)}:2380`,
            `--listen-client-urls=http://${ip(i + 1)}:2379`,
            `--advertise-client-urls=http://${ip(i + 1)}:2379`,
            `--initial-cluster=${cluster}`,
            "--initial-cluster-state=new",
            `--initial-cluster-token=rejoin-${process.pid}`,
          ],
          { stdio: "ignore" },
        ),
      );
    }
    for (let i = 0; i < 150; i++) {
      if (etcdctl("endpoint", "health", "--cluster").status === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(etcdctl("endpoint", "health", "--cluster").status, 0, "the three members did not come up");
  });
  after(() => {
    for (const m of members) m.kill("SIGKILL");
  });

  it("leaves cp-1's member while it answers; once it is gone, finds it in the real member list and removes it", () => {
    const s = kubeadmSandbox(
      () => `case "$*" in
  "token create --ttl 15m --print-join-command") echo "kubeadm join ${ip(2)}:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:${"1".repeat(64)}" ;;
  "init phase upload-certs --upload-certs") echo "${"f".repeat(64)}" ;;
esac`,
    );
    fs.mkdirSync(path.join(s.root, "etc/kubernetes"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/kubernetes/admin.conf"), "admin");
    fakeBin(
      s.bin,
      "kubectl",
      `case "$*" in
  *"get --raw=/readyz"*) exit 0 ;;
  *" get node cp-1 "*) cat "${s.state}/cp-1-ready" 2>/dev/null || printf Unknown ;;
  *" get pods "*) printf etcd-cp-2 ;;
  *" exec etcd-cp-2 -- etcdctl "*)
    args=()
    for a in "\${@:9}"; do
      case "$a" in
        --endpoints=https://127.0.0.1:2379) args+=("--endpoints=http://${ip(2)}:2379") ;;
        --endpoints=*) args+=("\${a/https:/http:}") ;;
        --cacert=* | --cert=* | --key=*) ;;
        *) args+=("$a") ;;
      esac
    done
    exec "${path.join(TOOLS, "etcdctl")}" "\${args[@]}" ;;
esac`,
    );
    // cp-1's etcd still answers (its Node merely not Ready): nothing is touched, no material made.
    const alive = s.run("kubeadm", ["rejoin-material"], { FIRST_NAME: "cp-1" });
    assert.equal(alive.status, 0, alive.stderr);
    assert.match(alive.stderr, /the etcd member of cp-1 answers at http:\S+: nothing to rejoin/);
    assert.equal(alive.stdout, "");
    assert.equal(etcdctl("member", "list").stdout.trim().split("\n").length, 3);
    // cp-1's machine is replaced: its etcd is gone; cp-2 and cp-3 keep quorum.
    members[0].kill("SIGKILL");
    const r = s.run("kubeadm", ["rejoin-material"], { FIRST_NAME: "cp-1" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`the dead etcd member [0-9a-f]+ of cp-1 \\(http://${ip(1).replace(/\./g, "\\.")}:2379\\) removed`),
    );
    assert.match(r.stdout, /^JOIN_TOKEN=/m);
    const left = etcdctl("member", "list");
    assert.equal(left.status, 0, left.stderr);
    assert.deepEqual(
      left.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(", ")[2])
        .sort(),
      ["cp-2", "cp-3"],
    );
    // A second run finds no member of cp-1: nothing more is removed, material is made again.
    const again = s.run("kubeadm", ["rejoin-material"], { FIRST_NAME: "cp-1" });
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /member .* removed/);
    // Just reset (kubeadm reset removed its member), cp-1 is still a Ready Node for up to 40 s:
    // its membership decides, so its replacement joins instead of founding a second cluster.
    fs.writeFileSync(path.join(s.state, "cp-1-ready"), "True");
    const reset = s.run("kubeadm", ["rejoin-material"], { FIRST_NAME: "cp-1" });
    assert.equal(reset.status, 0, reset.stderr);
    assert.match(reset.stderr, /cp-1 has no etcd member in this cluster/);
    assert.match(reset.stdout, /^JOIN_TOKEN=/m);
  });
});
