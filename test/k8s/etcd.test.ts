/**
 * The etcd snapshot, restore and drill scripts against a real etcd on loopback: Debian's
 * etcd-server/etcd-client 3.4 and etcd 3.6 built from the etcd Go modules (tools/etcd/build.sh),
 * with real TLS client certificates (openssl), a static-pod stand-in (starts etcd from the
 * manifest's command while the manifest is in the manifests dir, stops it when moved away) and
 * a local S3 endpoint that verifies SigV4 as S3 does. Only 127.0.0.6x addresses; every process
 * is stopped by its PID at the end.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { encodeSettings, scriptText } from "../../k8s/bootstrap/scripts";
import { requireFile, run, Run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";
import { FLAVOURS, KUBELET, S3_SERVER, start, stopAll, until, alive, certificates, etcdManifest } from "./etcd.fixtures";

for (const f of FLAVOURS) {
  describe(`etcd ${f.version} (real, on ${f.ip}): snapshot, restore and drill`, function () {
    this.timeout(30_000);
    const client = `https://${f.ip}:23791`;
    const peer = `http://${f.ip}:23801`;
    let dir = "";
    let root = "";
    let bin = "";
    let pki = "";
    let env: Record<string, string> = {};
    const manifests = () => path.join(root, "etc/kubernetes/manifests");
    const snapshots = () => path.join(root, "var/lib/oci-k8s/etcd-snapshots");
    const etcdPid = () => Number(fs.readFileSync(path.join(root, "etcd.pid"), "utf8"));
    const ctl = (...args: string[]) =>
      run(
        f.etcdctl,
        [
          `--endpoints=${client}`,
          `--cacert=${pki}/ca.crt`,
          `--cert=${pki}/healthcheck-client.crt`,
          `--key=${pki}/healthcheck-client.key`,
          "--dial-timeout=2s",
          "--command-timeout=3s",
          ...args,
        ],
        { env: { ETCDCTL_API: "3" } },
      );
    const healthy = () => ctl("endpoint", "health").status === 0;
    const script = (name: string, args: string[], extra: Record<string, string> = {}): Run =>
      run(path.join(root, "usr/local/sbin", name), args, { env: { ...env, ...extra }, timeout: 40_000 });

    before(async function () {
      for (const tool of [f.etcd, f.etcdctl, ...(f.etcdutl ? [f.etcdutl] : [])])
        requireFile(this, tool, f.version === "3.4" ? "apt-get install etcd-server etcd-client" : "run tools/etcd/build.sh");
      dir = tempDir(`etcd-${f.version}`);
      root = path.join(dir, "root");
      pki = path.join(root, "etc/kubernetes/pki/etcd");
      certificates(pki, f.ip);
      // Only these programs: this version's etcd tools, curl, and the named system tools.
      bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      fs.symlinkSync(f.etcd, path.join(bin, "etcd"));
      fs.symlinkSync(f.etcdctl, path.join(bin, "etcdctl"));
      if (f.etcdutl) fs.symlinkSync(f.etcdutl, path.join(bin, "etcdutl"));
      fs.symlinkSync("/usr/bin/curl", path.join(bin, "curl"));
      fs.writeFileSync(path.join(bin, "hostname"), "#!/bin/sh\necho server-1\n", { mode: 0o755 });
      env = {
        PATH: `${bin}:${systemTools(SCRIPT_TOOLS)}`,
        OCI_K8S_ROOT: root,
        OCI_K8S_RETRY_DELAY: "0",
        OCI_K8S_ETCD_ENDPOINT: client,
      };
      fs.mkdirSync(manifests(), { recursive: true });
      fs.writeFileSync(path.join(manifests(), "kube-apiserver.yaml"), "kind: Pod\n");
      fs.writeFileSync(path.join(manifests(), "etcd.yaml"), etcdManifest(client, peer, pki, f.image));
      fs.writeFileSync(path.join(dir, "kubelet.sh"), KUBELET, { mode: 0o755 });
      start(path.join(dir, "kubelet.sh"), [manifests(), root, f.etcd]);
      await until("etcd to serve", healthy);
      assert.equal(ctl("put", "/registry/namespaces/kube-system", "ns").status, 0);
      assert.equal(ctl("put", "/registry/before", "1").status, 0);
      // The tools, installed as the bootstrap does.
      for (const [name, settings] of [
        ["etcd-snapshot", { SCRIPT: scriptText("etcd-snapshot"), SCHEDULE: "0 * * * *", RETENTION: "3" }],
        ["etcd-drill", { SCRIPT: scriptText("etcd-drill"), SCHEDULE: "30 4 * * *" }],
        // A one-server cluster: no other member to stop first.
        ["etcd-restore", { SCRIPT: scriptText("etcd-restore"), MEMBERS: "" }],
      ] as const) {
        const r = run("bash", ["-c", scriptText(name), name, "install"], { env, input: encodeSettings(settings) });
        assert.equal(r.status, 0, r.stderr);
      }
    });

    after(async () => {
      await stopAll();
      // The stand-in stops its etcd by PID; nothing of this suite may be left running.
      if (root && fs.existsSync(path.join(root, "etcd.pid"))) {
        const pid = etcdPid();
        if (alive(pid)) process.kill(pid, "SIGKILL");
        assert.ok(!alive(pid), `etcd ${pid} still runs`);
      }
    });

    const takeSnapshot = () => {
      const r = script("oci-k8s-etcd-snapshot", ["run"]);
      assert.equal(r.status, 0, r.stderr);
      return fs
        .readdirSync(snapshots())
        .filter((x) => x.endsWith(".db"))
        .sort()
        .pop()!;
    };

    it("takes a snapshot through the TLS client certificate; a corrupt or truncated one is refused before anything stops", () => {
      const name = takeSnapshot();
      const good = path.join(snapshots(), name);
      assert.deepEqual(
        fs.readdirSync(snapshots()).filter((x) => x.includes(".part")),
        [],
      );
      const bytes = fs.readFileSync(good);
      const corrupt = path.join(dir, "corrupt.db");
      const flipped = Buffer.from(bytes);
      for (let i = 4096; i < 4096 + 64; i++) flipped[i] ^= 0xff;
      fs.writeFileSync(corrupt, flipped);
      const truncated = path.join(dir, "truncated.db");
      fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const pid = etcdPid();
      for (const bad of [corrupt, truncated]) {
        const r = script("oci-k8s-etcd-restore", ["kubeadm", "restore", bad]);
        assert.notEqual(r.status, 0, `${bad} was restored`);
        assert.match(r.stderr, /refused the snapshot .* nothing was stopped/);
        assert.ok(
          fs.existsSync(path.join(manifests(), "etcd.yaml")) && fs.existsSync(path.join(manifests(), "kube-apiserver.yaml")),
        );
        assert.equal(etcdPid(), pid, "etcd was restarted");
        assert.ok(healthy(), "etcd stopped serving");
        assert.deepEqual(
          fs.readdirSync(path.join(root, "var/lib")).filter((d) => d.startsWith("etcd.")),
          [],
          "a half restore was left",
        );
      }
    });

    it("a snapshot while etcd is down gives up within its time limit, says so, and leaves no file or process", async () => {
      fs.renameSync(path.join(manifests(), "etcd.yaml"), path.join(dir, "etcd.yaml"));
      const pid = etcdPid();
      await until("etcd to stop", () => !alive(pid));
      const before = fs.readdirSync(snapshots());
      const t = Date.now();
      const r = script("oci-k8s-etcd-snapshot", ["run"], { OCI_K8S_SNAPSHOT_TIMEOUT: "3" });
      const took = Date.now() - t;
      fs.renameSync(path.join(dir, "etcd.yaml"), path.join(manifests(), "etcd.yaml"));
      assert.notEqual(r.status, 0);
      assert.ok(took < 12_000, `took ${took} ms`);
      assert.match(r.stderr, /could not take a snapshot/);
      assert.deepEqual(fs.readdirSync(snapshots()), before);
      const left = run("pgrep", ["-f", snapshots()]);
      assert.equal(left.stdout.trim(), "", "an etcdctl was left running");
      await until("etcd to serve again", healthy);
    });

    it("uploads through SigV4 with x-amz-content-sha256; the endpoint rejects unsigned or wrongly signed requests; a refused upload fails and keeps the snapshot", async () => {
      const store = path.join(dir, "s3");
      fs.mkdirSync(store);
      fs.writeFileSync(path.join(dir, "s3.js"), S3_SERVER);
      const s3ip = f.version === "3.4" ? "127.0.0.65" : "127.0.0.66";
      start(process.execPath, [
        path.join(dir, "s3.js"),
        s3ip,
        "AKIDTEST",
        "SecretKeyNeverOnACommandLine",
        "eu-frankfurt-1",
        store,
      ]);
      await until("the S3 endpoint", () => fs.existsSync(path.join(store, "port")));
      const endpoint = `${s3ip}:${fs.readFileSync(path.join(store, "port"), "utf8")}`;
      // The endpoint itself: no signature, or no payload hash, is refused.
      assert.equal(
        run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data-binary", "x", `http://${endpoint}/b/k`])
          .stdout,
        "403",
      );
      const noHash = run("curl", [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "PUT",
        "--data-binary",
        "x",
        "-H",
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/eu-frankfurt-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
          "0".repeat(64),
        `http://${endpoint}/b/k`,
      ]);
      assert.equal(noHash.stdout, "400");
      const settings = (secret: string) =>
        encodeSettings({
          SCRIPT: scriptText("etcd-snapshot"),
          SCHEDULE: "0 * * * *",
          RETENTION: "3",
          S3_ENDPOINT: endpoint,
          S3_REGION: "eu-frankfurt-1",
          S3_BUCKET: "etcd",
          S3_FOLDER: "dev",
          S3_ACCESS_KEY: "AKIDTEST",
          S3_SECRET_KEY: secret,
        });
      const install = (secret: string) =>
        assert.equal(
          run("bash", ["-c", scriptText("etcd-snapshot"), "etcd-snapshot", "install"], { env, input: settings(secret) }).status,
          0,
        );
      install("SecretKeyNeverOnACommandLine");
      const ok = script("oci-k8s-etcd-snapshot", ["run"], { OCI_K8S_S3_SCHEME: "http" });
      assert.equal(ok.status, 0, ok.stderr);
      const name = fs
        .readdirSync(snapshots())
        .filter((x) => x.endsWith(".db"))
        .sort()
        .pop()!;
      assert.ok(fs.readFileSync(path.join(store, "etcd/dev", name)).equals(fs.readFileSync(path.join(snapshots(), name))));
      // A wrong key is refused by the signature check; a refusing bucket fails the run too.
      install("WrongSecret");
      const wrong = script("oci-k8s-etcd-snapshot", ["run"], { OCI_K8S_S3_SCHEME: "http" });
      assert.notEqual(wrong.status, 0);
      assert.match(fs.readFileSync(path.join(store, "denied.log"), "utf8"), /SignatureDoesNotMatch/);
      install("SecretKeyNeverOnACommandLine");
      fs.writeFileSync(path.join(store, "refuse"), "");
      const refused = script("oci-k8s-etcd-snapshot", ["run"], { OCI_K8S_S3_SCHEME: "http" });
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /the upload of .* failed; the snapshot is kept on this server/);
      assert.ok(!(ok.stderr + wrong.stderr + refused.stderr).includes("SecretKeyNeverOnACommandLine"));
      install("SecretKeyNeverOnACommandLine"); // back to the plain settings for the next tests
      fs.writeFileSync(
        path.join(root, "etc/oci-k8s/etcd-snapshot.settings"),
        `SCHEDULE=${Buffer.from("0 * * * *").toString("base64")}\nRETENTION=${Buffer.from("3").toString("base64")}`,
      );
    });

    it("the restore drill restores the newest snapshot into a throwaway etcd, checks keys and revision, reports a metric and stops it", async () => {
      takeSnapshot();
      const metrics = path.join(dir, "textfile");
      const drillEnv = {
        OCI_K8S_DRILL_METRICS: metrics,
        OCI_K8S_DRILL_ADDRESS: f.version === "3.4" ? "127.0.0.63" : "127.0.0.64",
        OCI_K8S_DRILL_CLIENT_PORT: "23795",
        OCI_K8S_DRILL_PEER_PORT: "23805",
      };
      // Issue 23.11: the throwaway etcd (no TLS) runs in a network namespace of its own, so another
      // process holding its address and port on the server's shared loopback neither blocks it nor
      // answers in its place.
      const squatter = net.createServer((c) => c.end("not etcd\n"));
      await new Promise<void>((ok) =>
        squatter.listen(Number(drillEnv.OCI_K8S_DRILL_CLIENT_PORT), drillEnv.OCI_K8S_DRILL_ADDRESS, ok),
      );
      let r: Run;
      try {
        r = script("oci-k8s-etcd-drill", ["run"], drillEnv);
      } finally {
        squatter.close();
      }
      assert.equal(r.status, 0, r.stderr);
      const prom = fs.readFileSync(path.join(metrics, "etcd_drill.prom"), "utf8");
      assert.match(prom, /^oci_k8s_etcd_drill_success 1$/m);
      const revision = Number(/^oci_k8s_etcd_drill_revision (\d+)$/m.exec(prom)![1]);
      assert.ok(revision >= 2, prom);
      assert.equal(
        run("pgrep", ["-f", "--", `--name drill --data-dir /tmp`]).stdout.trim(),
        "",
        "the drill's etcd was left running",
      );
      // A damaged newest snapshot fails the drill, and the metric says so.
      const newest = fs.readdirSync(snapshots()).sort().pop()!;
      const damaged = path.join(snapshots(), newest.replace(/(\d{8}T\d{6}Z)/, "99999999T999999Z"));
      fs.writeFileSync(damaged, fs.readFileSync(path.join(snapshots(), newest)).subarray(0, 20_000));
      const bad = script("oci-k8s-etcd-drill", ["run"], drillEnv);
      fs.rmSync(damaged);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /restore drill failed/);
      const after = fs.readFileSync(path.join(metrics, "etcd_drill.prom"), "utf8");
      assert.match(after, /^oci_k8s_etcd_drill_success 0$/m);
      assert.match(after, /^oci_k8s_etcd_drill_last_success_timestamp_seconds [1-9]\d+$/m);
    });

    it("a stop that never completes aborts the restore and puts everything back", async () => {
      const name = takeSnapshot();
      fs.writeFileSync(path.join(root, "stuck"), "");
      const pid = etcdPid();
      const r = script("oci-k8s-etcd-restore", ["kubeadm", "restore", path.join(snapshots(), name)], { OCI_K8S_STOP_WAIT: "2" });
      fs.rmSync(path.join(root, "stuck"));
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /etcd did not stop within 2s; the restore is aborted/);
      assert.ok(
        fs.existsSync(path.join(manifests(), "etcd.yaml")) && fs.existsSync(path.join(manifests(), "kube-apiserver.yaml")),
      );
      assert.equal(etcdPid(), pid);
      assert.ok(healthy());
      assert.deepEqual(
        fs.readdirSync(path.join(root, "var/lib")).filter((d) => d.startsWith("etcd.")),
        [],
      );
    });

    it(`restores a snapshot into the running member (name from the manifest${f.version === "3.6" ? ", revision bumped" : ""}) and keeps the old data`, async () => {
      const name = takeSnapshot();
      const revisionAt = () => Number(/"revision":(\d+)/.exec(ctl("endpoint", "status", "-w", "json").stdout)![1]);
      const before = revisionAt();
      assert.equal(ctl("put", "/registry/after", "2").status, 0);
      const pid = etcdPid();
      const r = script("oci-k8s-etcd-restore", ["kubeadm", "restore", path.join(snapshots(), name)]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /as member cp-a/);
      await until("the restored etcd to serve", () => etcdPid() !== pid && healthy());
      assert.equal(ctl("get", "/registry/before", "--print-value-only").stdout.trim(), "1");
      assert.equal(ctl("get", "/registry/after", "--print-value-only").stdout.trim(), "", "the restore did not go back");
      const after = revisionAt();
      if (f.version === "3.6") assert.ok(after >= before + 1_000_000_000, `revision ${after} not bumped past ${before}`);
      else assert.ok(after <= before, `revision ${after}`);
      const aside = fs.readdirSync(path.join(root, "var/lib")).filter((d) => d.startsWith("etcd.before-restore-"));
      assert.equal(aside.length, 1);
    });
  });
}
