/**
 * The restore drill on k3s and RKE2 servers, which embed etcd and ship no etcd tools: the drill's
 * install fetches the etcd release tarball (here from a loopback server standing in for GitHub),
 * checks its pinned sha256 and installs etcd, etcdctl and etcdutl; the drill then restores the
 * newest snapshot in the distribution's own snapshot directory (a real etcd 3.6 snapshot, named
 * as k3s names them) with nothing from PATH but system tools. A tarball that does not match its
 * sum installs and schedules nothing.
 */
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { K3S, RKE2 } from "../../k8s/bootstrap/distributions";
import { drillSettings } from "../../k8s/bootstrap/node-tools";
import { encodeSettings, scriptText } from "../../k8s/bootstrap/scripts";
import { must, requireFile, run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";
import { REPO, start, stopAll, until } from "./etcd.fixtures";

const TOOLS = path.join(REPO, "tools/etcd/bin");
const IP = "127.0.0.66";
const CLIENT = `http://${IP}:23796`;
const PORT = 18096;
const URL = `http://${IP}:${PORT}/etcd-v3.6.14-linux-amd64.tar.gz`;

describe("etcd restore drill on k3s and RKE2 (real etcd 3.6, a pinned release fetched over loopback)", function () {
  this.timeout(60_000);
  let dir = "";
  let tarball = "";
  let sum = "";
  const tools = () => `${systemTools([...SCRIPT_TOOLS, "tar", "gzip", "curl", "logger"])}`;

  before(async function () {
    for (const name of ["etcd", "etcdctl", "etcdutl"]) requireFile(this, path.join(TOOLS, name), "run tools/etcd/build.sh");
    dir = tempDir("drill-rancher");
    // The release tarball as etcd publishes it: one directory holding the three binaries.
    const release = path.join(dir, "etcd-v3.6.14-linux-amd64");
    fs.mkdirSync(release);
    for (const name of ["etcd", "etcdctl", "etcdutl"]) fs.copyFileSync(path.join(TOOLS, name), path.join(release, name));
    tarball = path.join(dir, "etcd.tar.gz");
    must("tar", ["-czf", tarball, "-C", dir, "etcd-v3.6.14-linux-amd64"]);
    sum = createHash("sha256").update(fs.readFileSync(tarball)).digest("hex");
    // In a process of its own: the scripts run synchronously and would block a server in this one.
    start(process.execPath, [
      "-e",
      `require("http").createServer((q, r) => r.end(require("fs").readFileSync(${JSON.stringify(tarball)}))).listen(${PORT}, "${IP}")`,
    ]);
    await until("the release server to answer", () => run("curl", ["-fsS", "-o", "/dev/null", URL]).status === 0);
    // The cluster's etcd, and a snapshot of it where k3s keeps them, named as k3s names them.
    start(path.join(TOOLS, "etcd"), [
      "--name",
      "server-1",
      "--data-dir",
      path.join(dir, "etcd"),
      "--listen-client-urls",
      CLIENT,
      "--advertise-client-urls",
      CLIENT,
      "--listen-peer-urls",
      `http://${IP}:23806`,
      "--initial-advertise-peer-urls",
      `http://${IP}:23806`,
      "--initial-cluster",
      `server-1=http://${IP}:23806`,
    ]);
    const ctl = (...args: string[]) => run(path.join(TOOLS, "etcdctl"), [`--endpoints=${CLIENT}`, ...args]);
    await until("etcd to serve", () => ctl("endpoint", "health").status === 0);
    assert.equal(ctl("put", "/registry/namespaces/kube-system", "ns").status, 0);
    for (const d of [K3S, RKE2]) {
      const snapshots = path.join(dir, d.name, d.snapshotDir);
      fs.mkdirSync(snapshots, { recursive: true });
      assert.equal(ctl("snapshot", "save", path.join(snapshots, "etcd-snapshot-server-1-1732250000")).status, 0);
    }
  });

  after(async () => {
    await stopAll();
  });

  /** The drill's install with the settings the program registers, the download pointed at loopback. */
  const install = (root: string, dist: typeof K3S, sha = sum) =>
    run("bash", ["-c", scriptText("etcd-drill"), "etcd-drill", "install"], {
      env: { PATH: tools(), OCI_K8S_ROOT: root, OCI_K8S_RETRY_DELAY: "0" },
      input: encodeSettings({
        ...drillSettings(dist, "amd64"),
        ETCD_URL: URL,
        ETCD_SHA256: sha,
      }),
    });

  it("registers the pinned release of the server's architecture and the distribution's snapshot directory", () => {
    for (const arch of ["arm64", "amd64"] as const) {
      const s = drillSettings(K3S, arch);
      assert.equal(s.ETCD_URL, `https://github.com/etcd-io/etcd/releases/download/v3.6.14/etcd-v3.6.14-linux-${arch}.tar.gz`);
      assert.match(s.ETCD_SHA256, /^[0-9a-f]{64}$/);
    }
    assert.notEqual(drillSettings(K3S, "arm64").ETCD_SHA256, drillSettings(K3S, "amd64").ETCD_SHA256);
    assert.equal(drillSettings(RKE2, "arm64").SNAPSHOT_DIR, "/var/lib/rancher/rke2/server/db/snapshots");
  });

  for (const dist of [K3S, RKE2]) {
    it(`${dist.name}: installs the checked release, then restores the newest snapshot with no etcd tool on PATH`, () => {
      const root = path.join(dir, dist.name);
      const r = install(root, dist);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /etcd 3\.6\.14 installed for the drill \(sha256 checked\)/);
      for (const name of ["etcd", "etcdctl", "etcdutl"])
        assert.ok(fs.existsSync(path.join(root, "usr/local/lib/oci-k8s/etcd-v3.6.14", name)));
      const metrics = path.join(dir, `${dist.name}-metrics`);
      const drill = run(path.join(root, "usr/local/sbin/oci-k8s-etcd-drill"), ["run"], {
        env: {
          PATH: tools(),
          OCI_K8S_ROOT: root,
          OCI_K8S_DRILL_METRICS: metrics,
          OCI_K8S_DRILL_ADDRESS: "127.0.0.67",
          OCI_K8S_DRILL_CLIENT_PORT: dist.name === "k3s" ? "23797" : "23798",
          OCI_K8S_DRILL_PEER_PORT: dist.name === "k3s" ? "23807" : "23808",
        },
        timeout: 40_000,
      });
      assert.equal(drill.status, 0, drill.stderr);
      assert.match(drill.stderr, /restore drill passed: .*etcd-snapshot-server-1-1732250000 restored at revision \d+/);
      assert.match(fs.readFileSync(path.join(metrics, "etcd_drill.prom"), "utf8"), /^oci_k8s_etcd_drill_success 1$/m);
    });
  }

  it("a download that does not match its pinned sha256 installs and schedules nothing", () => {
    const root = path.join(dir, "tampered");
    const r = install(root, K3S, "0".repeat(64));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not match its pinned sha256 0{64}; nothing was installed/);
    for (const p of [
      "usr/local/lib/oci-k8s",
      "usr/local/sbin/oci-k8s-etcd-drill",
      "etc/cron.d/oci-k8s-etcd-drill",
      "etc/oci-k8s/etcd-drill.env",
    ])
      assert.ok(!fs.existsSync(path.join(root, p)), `${p} exists`);
  });
});
