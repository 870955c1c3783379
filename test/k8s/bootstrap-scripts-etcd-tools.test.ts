/**
 * The bootstrap scripts run for real under bash, exactly as sent to a node (lib.sh + script, as
 * `bash -c`), against fake distribution binaries on PATH that record their calls and can be
 * told to fail. Files the scripts write land under OCI_K8S_ROOT, a temp dir.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { scriptText } from "../../k8s/bootstrap/scripts";
import { fakeBin, run } from "../tools";
import { systemPath, Sandbox, sandbox } from "./bootstrap-scripts.fixtures";

describe("bootstrap scripts: etcd-restore.sh", () => {
  /** The member list the install writes: the other members' addresses (here loopback only). */
  function members(s: Sandbox, ips: string[] = []) {
    const r = s.run("etcd-restore", ["install"], { SCRIPT: scriptText("etcd-restore"), MEMBERS: ips.join("\n") });
    assert.equal(r.status, 0, r.stderr);
  }
  /** A member whose etcd still runs: something listening on its client port. */
  async function listening(): Promise<net.Server & { port: number }> {
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
  }

  it("install puts the tool and the other members' addresses (root-only) on the member", () => {
    const s = sandbox();
    members(s, ["10.0.1.11", "10.0.1.12"]);
    const tool = path.join(s.root, "usr/local/sbin/oci-k8s-etcd-restore");
    assert.equal(fs.statSync(tool).mode & 0o777, 0o755);
    assert.match(fs.readFileSync(tool, "utf8"), /oci-k8s-etcd-restore DIST stop/);
    const list = path.join(s.root, "etc/oci-k8s/etcd-restore.settings");
    assert.equal(fs.statSync(list).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(list, "utf8").trim(), `MEMBERS=${Buffer.from("10.0.1.11\n10.0.1.12").toString("base64")}`);
  });

  // RKE2 docs, backup_restore ("Restoring a Snapshot to Existing Nodes"): stop RKE2 on all server
  // nodes first; the reset then runs on the first server alone.
  it("restore refuses while another member's etcd still answers, and changes nothing; stop on that member lets it go on", async () => {
    const s = sandbox();
    fakeBin(s.bin, "k3s");
    const snapshot = path.join(s.root, "snap.db");
    fs.writeFileSync(snapshot, "snapshot");
    const other = await listening();
    try {
      members(s, ["127.0.0.1"]);
      const env = { OCI_K8S_ETCD_CLIENT_PORT: String(other.port) };
      const r = s.run("etcd-restore", ["k3s", "restore", snapshot], {}, env);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `etcd still runs on 127\\.0\\.0\\.1 \\(port ${other.port}\\): the old cluster would keep its quorum; nothing was changed`,
        ),
      );
      assert.match(r.stderr, /try: on each of those members run: sudo oci-k8s-etcd-restore k3s stop/);
      assert.deepEqual(s.calls(), [], "something was stopped or reset");
      other.close();
      await new Promise((ok) => setTimeout(ok, 50));
      const ok = s.run("etcd-restore", ["k3s", "restore", snapshot], {}, env);
      assert.equal(ok.status, 0, ok.stderr);
    } finally {
      other.close();
    }
  });

  it("stop stops the member's service (k3s, RKE2), or moves a kubeadm server's etcd and API manifests aside", () => {
    const s = sandbox();
    const r = s.run("etcd-restore", ["rke2", "stop"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(s.calls(), ["systemctl stop rke2-server"]);
    assert.match(r.stderr, /run: sudo oci-k8s-etcd-restore rke2 rejoin/);
  });

  it("restore stops the server, resets etcd to a local snapshot by its full path, and starts it again", () => {
    const s = sandbox();
    fakeBin(s.bin, "k3s");
    members(s);
    const snapshots = path.join(s.root, "var/lib/rancher/k3s/server/db/snapshots");
    fs.mkdirSync(snapshots, { recursive: true });
    fs.writeFileSync(path.join(snapshots, "etcd-snapshot-server-1-1763790000"), "snapshot");
    const r = run(
      "bash",
      ["-c", scriptText("etcd-restore"), "etcd-restore", "k3s", "restore", "etcd-snapshot-server-1-1763790000"],
      {
        env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root },
        cwd: snapshots,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(s.calls(), [
      "systemctl stop k3s",
      `k3s server --cluster-reset --cluster-reset-restore-path=${path.join(fs.realpathSync(snapshots), "etcd-snapshot-server-1-1763790000")} --etcd-s3=false`,
      "systemctl start k3s",
    ]);
    assert.match(r.stderr, /run 'oci-k8s-etcd-restore k3s rejoin' on every other server/);
  });

  // RKE2 docs, backup_restore: with S3 in the config file, a local snapshot is restored with
  // --etcd-s3=false, or the reset fetches the snapshot of that name from the bucket.
  it("a local snapshot on a server whose config has etcd-s3 is restored with --etcd-s3=false; a bucket name without it", () => {
    const s = sandbox();
    fakeBin(s.bin, "rke2");
    members(s);
    fs.mkdirSync(path.join(s.root, "etc/rancher/rke2"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/rancher/rke2/config.yaml"), "etcd-s3: true\netcd-s3-bucket: b\n");
    const local = path.join(s.root, "etcd-snapshot-server-1-1763790000");
    fs.writeFileSync(local, "snapshot");
    assert.equal(s.run("etcd-restore", ["rke2", "restore", local]).status, 0);
    assert.ok(
      s.calls().includes(`rke2 server --cluster-reset --cluster-reset-restore-path=${fs.realpathSync(local)} --etcd-s3=false`),
      s.calls().join("\n"),
    );
    assert.equal(s.run("etcd-restore", ["rke2", "restore", "etcd-snapshot-server-2-1763790000"]).status, 0);
    assert.ok(s.calls().includes("rke2 server --cluster-reset --cluster-reset-restore-path=etcd-snapshot-server-2-1763790000"));
  });

  it("a snapshot name that is no local file needs the bucket in the config; a failed reset says what to check and leaves the service stopped", () => {
    const s = sandbox();
    fakeBin(s.bin, "rke2", "exit 1");
    members(s);
    const refused = s.run("etcd-restore", ["rke2", "restore", "missing"]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /missing is not a local file and no S3 bucket is configured/);
    assert.deepEqual(s.calls(), [], "something was stopped");
    fs.mkdirSync(path.join(s.root, "etc/rancher/rke2"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/rancher/rke2/config.yaml"), "etcd-s3: true\netcd-s3-bucket: b\n");
    const r = s.run("etcd-restore", ["rke2", "restore", "missing"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the reset to missing failed\n.*rke2 etcd-snapshot ls/);
    assert.ok(s.calls().includes("rke2 server --cluster-reset --cluster-reset-restore-path=missing"));
    assert.ok(!s.calls().includes("systemctl start rke2-server"));
  });

  it("rejoin moves the old etcd data aside (never deletes it) and starts the server", () => {
    const s = sandbox();
    const db = path.join(s.root, "var/lib/rancher/k3s/server/db");
    fs.mkdirSync(path.join(db, "etcd"), { recursive: true });
    const r = s.run("etcd-restore", ["k3s", "rejoin"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(db), false);
    const aside = fs.readdirSync(path.dirname(db)).filter((d) => d.startsWith("db.before-restore-"));
    assert.equal(aside.length, 1);
    assert.ok(fs.existsSync(path.join(path.dirname(db), aside[0], "etcd")));
    assert.deepEqual(s.calls(), ["systemctl stop k3s", "systemctl start k3s"]);
  });

  // etcdutl: "version" answers 3.6.16; "snapshot restore ... --data-dir DIR" makes DIR/member,
  // unless told to fail.
  const ETCDUTL = `[[ "$1" == version ]] && { echo "etcdutl version: 3.6.16"; exit 0; }
[[ -n "\${FAKE_RESTORE_FAIL:-}" ]] && { mkdir -p "$(sed 's/.*--data-dir \\([^ ]*\\).*/\\1/' <<<"$*")/member"; exit 1; }
while [[ $# -gt 0 ]]; do [[ "$1" == --data-dir ]] && mkdir -p "$2/member" && touch "$2/member/restored"; shift; done`;

  function kubeadmServer(etcdutlOnPath = true) {
    const s = sandbox();
    const manifests = path.join(s.root, "etc/kubernetes/manifests");
    fs.mkdirSync(manifests, { recursive: true });
    fs.writeFileSync(
      path.join(manifests, "etcd.yaml"),
      "    - --initial-advertise-peer-urls=https://10.0.0.10:2380\n    - --name=cp-a\n    - --data-dir=/var/lib/etcd\n    image: registry.k8s.io/etcd:3.6.16-0\n",
    );
    fs.writeFileSync(path.join(manifests, "kube-apiserver.yaml"), "kind: Pod\n");
    fs.mkdirSync(path.join(s.root, "var/lib/etcd/member"), { recursive: true });
    fakeBin(s.bin, "hostname", "echo server-1");
    if (etcdutlOnPath) fakeBin(s.bin, "etcdutl", ETCDUTL);
    members(s);
    return { s, manifests };
  }

  it("kubeadm: stop on another server moves its etcd and API manifests aside (its kubelet stops them); a rerun is harmless", () => {
    const { s, manifests } = kubeadmServer();
    for (let i = 0; i < 2; i++) {
      const r = s.run("etcd-restore", ["kubeadm", "stop"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /replace this server: pulumi up --replace/);
    }
    for (const m of ["etcd.yaml", "kube-apiserver.yaml"]) {
      assert.ok(!fs.existsSync(path.join(manifests, m)), `${m} still in place`);
      assert.ok(fs.existsSync(path.join(s.root, "etc/kubernetes/oci-k8s-paused", m)), `${m} lost`);
    }
  });

  it("kubeadm: restore with the server's etcdutl (bumped revision, member name from the manifest) before stopping etcd and the API; keeps the old data", () => {
    const { s, manifests } = kubeadmServer();
    const snapshot = path.join(s.root, "snap.db");
    fs.writeFileSync(snapshot, "snapshot");
    const r = s.run("etcd-restore", ["kubeadm", "restore", snapshot]);
    assert.equal(r.status, 0, r.stderr);
    const restore = s.calls().find((c) => c.startsWith("etcdutl snapshot restore"))!;
    assert.match(
      restore,
      /--name cp-a --initial-cluster cp-a=https:\/\/10\.0\.0\.10:2380 --initial-advertise-peer-urls https:\/\/10\.0\.0\.10:2380 --bump-revision 1000000000 --mark-compacted$/,
    );
    assert.ok(fs.existsSync(path.join(s.root, "var/lib/etcd/member/restored")));
    const aside = fs.readdirSync(path.join(s.root, "var/lib")).filter((d) => d.startsWith("etcd.before-restore-"));
    assert.equal(aside.length, 1, "the old data was not kept");
    for (const m of ["etcd.yaml", "kube-apiserver.yaml"]) assert.ok(fs.existsSync(path.join(manifests, m)), `${m} not back`);
    assert.match(r.stderr, /replace each other one: pulumi up --replace/);
  });

  it("kubeadm: without a matching etcdutl on the node, it is copied out of the etcd image the manifest names", () => {
    const { s } = kubeadmServer(false);
    fakeBin(
      s.bin,
      "ctr",
      `if [[ "$3 $4" == "images mount" ]]; then mkdir -p "$6/usr/local/bin"; printf '#!/usr/bin/env bash\necho "etcdutl $*" >> "${s.bin}/calls.log"\n%s\n' '${ETCDUTL.replace(/'/g, "'\\''")}' > "$6/usr/local/bin/etcdutl"; chmod +x "$6/usr/local/bin/etcdutl"; fi`,
    );
    const snapshot = path.join(s.root, "snap.db");
    fs.writeFileSync(snapshot, "snapshot");
    const r = s.run("etcd-restore", ["kubeadm", "restore", snapshot]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      s.calls().some((c) => /^ctr -n k8s\.io images mount registry\.k8s\.io\/etcd:3\.6\.16-0 /.test(c)),
      s.calls().join("\n"),
    );
    assert.ok(s.calls().some((c) => c.startsWith("ctr -n k8s.io images unmount")));
    assert.ok(s.calls().some((c) => c.startsWith("etcdutl snapshot restore")));
  });

  it("kubeadm: a refused snapshot stops nothing, leaves no half-built directory and keeps the old data", () => {
    const { s, manifests } = kubeadmServer();
    const snapshot = path.join(s.root, "snap.db");
    fs.writeFileSync(snapshot, "snapshot");
    const r = s.run("etcd-restore", ["kubeadm", "restore", snapshot], {}, { FAKE_RESTORE_FAIL: "1" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /etcdutl refused the snapshot .*nothing was stopped/);
    assert.ok(fs.existsSync(path.join(s.root, "var/lib/etcd/member")), "the old data is gone");
    for (const m of ["etcd.yaml", "kube-apiserver.yaml"]) assert.ok(fs.existsSync(path.join(manifests, m)), `${m} was moved`);
    assert.deepEqual(
      fs.readdirSync(path.join(s.root, "var/lib")).filter((d) => d !== "etcd"),
      [],
      "a half-built restore was left",
    );
    const missing = s.run("etcd-restore", ["kubeadm", "restore", "/nowhere.db"]);
    assert.match(missing.stderr, /no snapshot file \/nowhere\.db/);
  });
});

describe("bootstrap scripts: etcd-snapshot.sh (kubeadm)", () => {
  const KEY = "SecretKeyForTheBucketThatMustNotLeak";
  /** A kubeadm server; etcdctl on its PATH, or (onPath false) only in the etcd image its etcd pod runs. */
  function server(onPath = true) {
    const s = sandbox();
    fakeBin(s.bin, "hostname", "echo server-1");
    // apt is never asked (an air-gapped server has none that works).
    fakeBin(s.bin, "apt-get", "exit 100");
    // The etcdctl: "snapshot save FILE" writes FILE, unless told to fail.
    const etcdctl = `#!/usr/bin/env bash\necho "etcdctl $*" >> "${s.bin}/calls.log"\n[[ -n "\${FAKE_SNAPSHOT_FAIL:-}" ]] && exit 1\necho db > "\${@: -1}"\n`;
    if (onPath) fs.writeFileSync(path.join(s.bin, "etcdctl"), etcdctl, { mode: 0o755 });
    // containerd's ctr: "images mount IMAGE DIR" shows the image's files (its etcdctl) in DIR.
    fs.writeFileSync(path.join(s.state, "image-etcdctl"), etcdctl, { mode: 0o755 });
    fakeBin(
      s.bin,
      "ctr",
      `if [[ "$3 $4" == "images mount" && -z "\${FAKE_NO_IMAGE:-}" ]]; then mkdir -p "$6/usr/local/bin"; cp "${s.state}/image-etcdctl" "$6/usr/local/bin/etcdctl"; elif [[ "$3 $4" == "images mount" ]]; then echo "ctr: image not found" >&2; exit 1; fi`,
    );
    const manifests = path.join(s.root, "etc/kubernetes/manifests");
    fs.mkdirSync(manifests, { recursive: true });
    fs.writeFileSync(path.join(manifests, "etcd.yaml"), "    image: registry.k8s.io/etcd:3.6.5-0\n");
    // curl: records its arguments and what it read on stdin (the -K config: the whole signed
    // request); answers a listing.
    fakeBin(
      s.bin,
      "curl",
      `req="$(cat)"
printf '%s' "$req" > "${s.state}/curl-stdin-$(date +%s%N)"
[[ -n "\${FAKE_UPLOAD_FAIL:-}" && "$*" == *" -T "* ]] && exit 22
if [[ "$req" == *list-type=2* ]]; then
  printf '<ListBucketResult>'
  for k in 20260101T000000Z 20260102T000000Z 20260103T000000Z 20260104T000000Z; do printf '<Contents><Key>oci-k8s-boot/etcd-snapshot-server-1-%s.db</Key></Contents>' "$k"; done
  printf '</ListBucketResult>'
fi
exit 0`,
    );
    const settings = {
      SCRIPT: scriptText("etcd-snapshot"),
      SCHEDULE: "0 */6 * * *",
      RETENTION: "2",
      S3_ENDPOINT: "ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com",
      S3_REGION: "eu-frankfurt-1",
      S3_BUCKET: "oci-k8s-etcd",
      S3_FOLDER: "oci-k8s-boot",
      S3_ACCESS_KEY: "AccessKeyForTheBucket",
      S3_SECRET_KEY: KEY,
    };
    const snapshots = path.join(s.root, "var/lib/oci-k8s/etcd-snapshots");
    const tool = path.join(s.root, "usr/local/sbin/oci-k8s-etcd-snapshot");
    const runTool = (env: Record<string, string> = {}) =>
      run(tool, ["run"], {
        env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root, OCI_K8S_RETRY_DELAY: "0", ...env },
      });
    return { s, settings, snapshots, tool, runTool };
  }

  it("install puts the tool, its root-only settings and a cron entry on the server, and installs no package", () => {
    const { s, settings, tool } = server();
    const r = s.run("etcd-snapshot", ["install"], settings);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!s.calls().some((c) => c.startsWith("apt-get")), s.calls().join("\n"));
    assert.equal(fs.statSync(tool).mode & 0o777, 0o755);
    const stored = path.join(s.root, "etc/oci-k8s/etcd-snapshot.settings");
    assert.equal(fs.statSync(stored).mode & 0o777, 0o600);
    assert.equal(
      fs.readFileSync(path.join(s.root, "etc/cron.d/oci-k8s-etcd-snapshot"), "utf8").trim(),
      "0 */6 * * * root /usr/local/sbin/oci-k8s-etcd-snapshot run 2>&1 | logger -t oci-k8s-etcd-snapshot",
    );
    assert.ok(!(r.stdout + r.stderr).includes(KEY));
  });

  it("run takes a snapshot, keeps the newest RETENTION, uploads it and prunes the bucket; the key never reaches a command line", () => {
    const { s, settings, snapshots, runTool } = server();
    assert.equal(s.run("etcd-snapshot", ["install"], settings).status, 0);
    fs.mkdirSync(snapshots, { recursive: true });
    for (const old of ["20250101T000000Z", "20250102T000000Z"])
      fs.writeFileSync(path.join(snapshots, `etcd-snapshot-server-1-${old}.db`), "old");
    const r = runTool();
    assert.equal(r.status, 0, r.stderr);
    const kept = fs.readdirSync(snapshots).sort();
    assert.equal(kept.length, 2, kept.join(", "));
    assert.ok(kept.includes("etcd-snapshot-server-1-20250102T000000Z.db"));
    assert.ok(!kept.some((f) => f.endsWith(".part")));
    const save = s.calls().find((c) => c.startsWith("etcdctl") && c.includes("snapshot save"))!;
    assert.match(save, /--endpoints=https:\/\/127\.0\.0\.1:2379 .*healthcheck-client\.crt/);
    // Each request reaches curl whole on its stdin, signed (SigV4 with the payload's SHA-256).
    const requests = fs
      .readdirSync(s.state)
      .filter((f) => f.startsWith("curl-stdin-"))
      .sort()
      .map((f) => fs.readFileSync(path.join(s.state, f), "utf8"));
    const put = requests.find((t) => t.includes('request = "PUT"'))!;
    assert.match(
      put,
      /url = "https:\/\/ns\.compat\.objectstorage\.eu-frankfurt-1\.oraclecloud\.com\/oci-k8s-etcd\/oci-k8s-boot\/etcd-snapshot-server-1-\d{8}T\d{6}Z\.db"/,
    );
    assert.match(put, /header = "x-amz-content-sha256: [0-9a-f]{64}"/);
    assert.match(
      put,
      /Credential=AccessKeyForTheBucket\/\d{8}\/eu-frankfurt-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}"/,
    );
    assert.ok(
      requests.some((t) => /url = ".*\/oci-k8s-etcd\?list-type=2&prefix=oci-k8s-boot%2Fetcd-snapshot-server-1-"/.test(t)),
    );
    // Four in the bucket, two kept: the two oldest go.
    const deletes = requests.filter((t) => t.includes('request = "DELETE"'));
    assert.deepEqual(
      deletes.map((t) => /url = "[^"]*\/([^/"]*)"/.exec(t)![1]),
      ["etcd-snapshot-server-1-20260102T000000Z.db", "etcd-snapshot-server-1-20260101T000000Z.db"],
    );
    for (const c of s.calls()) assert.ok(!c.includes(KEY), `the secret key is on a command line: ${c}`);
    for (const t of requests) assert.ok(!t.includes(KEY), "the secret key was sent");
  });

  it("air-gapped (no etcdctl on the server): the etcdctl of the etcd image the cluster runs takes the snapshot, and is removed after", () => {
    const { s, settings, snapshots, runTool } = server(false);
    const r = s.run("etcd-snapshot", ["install"], settings);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!s.calls().some((c) => c.startsWith("apt-get")));
    assert.ok(s.calls().some((c) => c.startsWith("ctr -n k8s.io images mount registry.k8s.io/etcd:3.6.5-0 ")));
    const before = s.calls().length;
    const taken = runTool();
    assert.equal(taken.status, 0, taken.stderr);
    const run = s.calls().slice(before);
    assert.ok(
      run.some((c) => c.startsWith("ctr -n k8s.io images mount registry.k8s.io/etcd:3.6.5-0 ")),
      run.join("\n"),
    );
    assert.ok(run.some((c) => c.startsWith("ctr -n k8s.io images unmount ")));
    assert.ok(run.some((c) => c.startsWith("etcdctl ") && c.includes("snapshot save")));
    assert.equal(fs.readdirSync(snapshots).filter((f) => f.endsWith(".db")).length, 1);
  });

  it("no etcdctl on the server and none from its etcd image: install says so and schedules nothing", () => {
    const { s, settings } = server(false);
    const r = s.run("etcd-snapshot", ["install"], settings, { FAKE_NO_IMAGE: "1" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /could not mount the etcd image registry\.k8s\.io\/etcd:3\.6\.5-0/);
    assert.match(r.stderr, /FAILED: no etcdctl for the snapshots: none on PATH and none from the etcd image/);
    assert.ok(!fs.existsSync(path.join(s.root, "etc/cron.d/oci-k8s-etcd-snapshot")));
    assert.ok(!fs.existsSync(path.join(s.root, "usr/local/sbin/oci-k8s-etcd-snapshot")));
  });

  it("a failed snapshot leaves no partial file; a failed upload keeps the snapshot on the server and fails", () => {
    const { s, settings, snapshots, runTool } = server();
    assert.equal(s.run("etcd-snapshot", ["install"], settings).status, 0);
    const failed = runTool({ FAKE_SNAPSHOT_FAIL: "1" });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /etcdctl could not take a snapshot/);
    assert.deepEqual(fs.readdirSync(snapshots), []);
    const upload = runTool({ FAKE_UPLOAD_FAIL: "1" });
    assert.equal(upload.status, 1);
    assert.match(upload.stderr, /the upload of etcd-snapshot-server-1-.* failed; the snapshot is kept on this server/);
    assert.equal(fs.readdirSync(snapshots).length, 1);
  });
});
