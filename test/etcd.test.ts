/**
 * The etcd snapshot, restore and drill scripts against a real etcd on loopback: Debian's
 * etcd-server/etcd-client 3.4 and etcd 3.6 built from the etcd Go modules (tools/etcd/build.sh),
 * with real TLS client certificates (openssl), a static-pod stand-in (starts etcd from the
 * manifest's command while the manifest is in the manifests dir, stops it when moved away) and
 * a local S3 endpoint that verifies SigV4 as S3 does. Only 127.0.0.6x addresses; every process
 * is stopped by its PID at the end.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { encodeSettings, scriptText } from "../k8s/bootstrap/scripts";
import { must, run, Run, SCRIPT_TOOLS, systemTools, tempDir } from "./tools";

const REPO = path.resolve(__dirname, "..");

interface Flavour {
  readonly version: "3.4" | "3.6";
  readonly image: string;
  readonly etcd: string;
  readonly etcdctl: string;
  readonly etcdutl?: string;
  readonly ip: string;
}

const FLAVOURS: Flavour[] = [
  {
    version: "3.4",
    image: "registry.k8s.io/etcd:3.4.23-0",
    etcd: "/usr/bin/etcd",
    etcdctl: "/usr/bin/etcdctl",
    ip: "127.0.0.61",
  },
  {
    version: "3.6",
    image: "registry.k8s.io/etcd:3.6.16-0",
    etcd: path.join(REPO, "tools/etcd/bin/etcd"),
    etcdctl: path.join(REPO, "tools/etcd/bin/etcdctl"),
    etcdutl: path.join(REPO, "tools/etcd/bin/etcdutl"),
    ip: "127.0.0.62",
  },
];

/** The static-pod stand-in: the kubelet's part, for etcd.yaml only. `stuck` makes stops hang. */
const KUBELET = `#!/usr/bin/env bash
manifests=$1 root=$2 etcd_bin=$3
pid=""
stop() { if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi; }
trap 'stop; exit 0' TERM INT
while true; do
  if [[ -f "$manifests/etcd.yaml" ]]; then
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
      args=()
      while read -r a; do
        case "$a" in --data-dir=*) a="--data-dir=$root\${a#--data-dir=}" ;; esac
        args+=("$a")
      done < <(sed -n 's/^    - \\(--.*\\)/\\1/p' "$manifests/etcd.yaml")
      "$etcd_bin" "\${args[@]}" >>"$root/etcd.log" 2>&1 &
      pid=$!
      echo "$pid" >"$root/etcd.pid"
    fi
  elif [[ -n "$pid" && ! -f "$root/stuck" ]]; then
    stop
  fi
  sleep 0.2 & wait $!
done
`;

/** An S3 endpoint that checks SigV4 as S3 does (x-amz-content-sha256 required and equal to the body's). */
const S3_SERVER = `
const http = require("http"), crypto = require("crypto"), fs = require("fs"), path = require("path");
const [ip, access, secret, region, store] = process.argv.slice(2);
const sha = (b) => crypto.createHash("sha256").update(b).digest("hex");
const hmac = (k, s) => crypto.createHmac("sha256", k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const deny = (code, why) => { fs.appendFileSync(path.join(store, "denied.log"), why + "\\n"); res.writeHead(code); res.end("<Error><Code>" + why + "</Code></Error>"); };
    if (fs.existsSync(path.join(store, "refuse"))) return deny(403, "AccessDenied");
    const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\\/(\\d{8})\\/([^/]+)\\/s3\\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(req.headers.authorization || "");
    if (!auth) return deny(403, "MissingSecurityHeader");
    const [, key, day, reg, signedHeaders, signature] = auth;
    const payload = req.headers["x-amz-content-sha256"];
    if (!payload) return deny(400, "MissingContentSHA256");
    if (payload !== sha(body)) return deny(400, "XAmzContentSHA256Mismatch");
    const signed = signedHeaders.split(";");
    if (!signed.includes("host") || !signed.includes("x-amz-content-sha256") || !signed.includes("x-amz-date")) return deny(403, "HeadersNotSigned");
    if (key !== access || reg !== region) return deny(403, "InvalidAccessKeyId");
    const url = new URL(req.url, "http://x");
    const query = [...url.searchParams].map(([k, v]) => [enc(k), enc(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((p) => p.join("=")).join("&");
    const canonical = [req.method, url.pathname, query, ...signed.map((h) => h + ":" + String(req.headers[h]).trim()), "", signedHeaders, payload].join("\\n");
    const scope = day + "/" + region + "/s3/aws4_request";
    const toSign = ["AWS4-HMAC-SHA256", req.headers["x-amz-date"], scope, sha(canonical)].join("\\n");
    let k = hmac("AWS4" + secret, day);
    for (const p of [region, "s3", "aws4_request"]) k = hmac(k, p);
    if (crypto.createHmac("sha256", k).update(toSign).digest("hex") !== signature) return deny(403, "SignatureDoesNotMatch");
    const object = path.join(store, decodeURIComponent(url.pathname));
    if (req.method === "PUT") { fs.mkdirSync(path.dirname(object), { recursive: true }); fs.writeFileSync(object, body); res.writeHead(200); return res.end(); }
    if (req.method === "DELETE") { fs.rmSync(object, { force: true }); res.writeHead(204); return res.end(); }
    if (req.method === "GET") {
      const bucket = path.join(store, url.pathname);
      const prefix = url.searchParams.get("prefix") || "";
      const keys = [];
      const walk = (d) => { if (fs.existsSync(d)) for (const f of fs.readdirSync(d, { withFileTypes: true })) f.isDirectory() ? walk(path.join(d, f.name)) : keys.push(path.relative(bucket, path.join(d, f.name))); };
      walk(bucket);
      res.writeHead(200);
      return res.end("<ListBucketResult>" + keys.filter((x) => x.startsWith(prefix)).map((x) => "<Contents><Key>" + x + "</Key></Contents>").join("") + "</ListBucketResult>");
    }
    deny(405, "MethodNotAllowed");
  });
}).listen(0, ip, function () { fs.writeFileSync(path.join(store, "port"), String(this.address().port)); });
`;

const children: ChildProcess[] = [];
function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: "ignore" });
  children.push(child);
  return child;
}
async function stopAll(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.pid === undefined) continue;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid, "SIGTERM");
    await Promise.race([exited, sleep(5000).then(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"))]);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A CA, a server certificate for IP, and kubeadm's healthcheck client certificate. */
function certificates(pki: string, ip: string): void {
  fs.mkdirSync(pki, { recursive: true });
  const o = (...args: string[]) => must("openssl", args);
  o(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=etcd-ca",
    "-keyout",
    `${pki}/ca.key`,
    "-out",
    `${pki}/ca.crt`,
  );
  for (const [name, cn, ext] of [
    ["server", "server", `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth,clientAuth`],
    ["healthcheck-client", "kube-etcd-healthcheck-client", "extendedKeyUsage=clientAuth"],
  ]) {
    fs.writeFileSync(`${pki}/${name}.ext`, ext);
    o(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${pki}/${name}.key`,
      "-out",
      `${pki}/${name}.csr`,
    );
    o(
      "x509",
      "-req",
      "-in",
      `${pki}/${name}.csr`,
      "-CA",
      `${pki}/ca.crt`,
      "-CAkey",
      `${pki}/ca.key`,
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      `${pki}/${name}.ext`,
      "-out",
      `${pki}/${name}.crt`,
    );
  }
}

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
        if (!fs.existsSync(tool))
          throw new Error(`${tool} is missing: run .ci/run (apt-get install etcd-server etcd-client; tools/etcd/build.sh)`);
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
      fs.writeFileSync(
        path.join(manifests(), "etcd.yaml"),
        [
          "apiVersion: v1",
          "kind: Pod",
          "metadata:",
          "  name: etcd",
          "  namespace: kube-system",
          "spec:",
          "  containers:",
          "  - command:",
          "    - etcd",
          `    - --advertise-client-urls=${client}`,
          `    - --cert-file=${pki}/server.crt`,
          "    - --client-cert-auth=true",
          "    - --data-dir=/var/lib/etcd",
          `    - --initial-advertise-peer-urls=${peer}`,
          `    - --initial-cluster=cp-a=${peer}`,
          `    - --key-file=${pki}/server.key`,
          `    - --listen-client-urls=${client}`,
          `    - --listen-peer-urls=${peer}`,
          "    - --name=cp-a",
          "    - --snapshot-count=10000",
          `    - --trusted-ca-file=${pki}/ca.crt`,
          `    image: ${f.image}`,
          "",
        ].join("\n"),
      );
      fs.writeFileSync(path.join(dir, "kubelet.sh"), KUBELET, { mode: 0o755 });
      start(path.join(dir, "kubelet.sh"), [manifests(), root, f.etcd]);
      await until("etcd to serve", healthy);
      assert.equal(ctl("put", "/registry/namespaces/kube-system", "ns").status, 0);
      assert.equal(ctl("put", "/registry/before", "1").status, 0);
      // The tools, installed as the bootstrap does.
      for (const [name, settings] of [
        ["etcd-snapshot", { SCRIPT: scriptText("etcd-snapshot"), SCHEDULE: "0 * * * *", RETENTION: "3" }],
        ["etcd-drill", { SCRIPT: scriptText("etcd-drill"), SCHEDULE: "30 4 * * *" }],
      ] as const) {
        const r = run("bash", ["-c", scriptText(name), name, "install"], { env, input: encodeSettings(settings) });
        assert.equal(r.status, 0, r.stderr);
      }
      fs.writeFileSync(path.join(root, "usr/local/sbin/oci-k8s-etcd-restore"), scriptText("etcd-restore"), { mode: 0o755 });
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

    it("the restore drill restores the newest snapshot into a throwaway etcd, checks keys and revision, reports a metric and stops it", () => {
      takeSnapshot();
      const metrics = path.join(dir, "textfile");
      const drillEnv = {
        OCI_K8S_DRILL_METRICS: metrics,
        OCI_K8S_DRILL_ADDRESS: f.version === "3.4" ? "127.0.0.63" : "127.0.0.64",
        OCI_K8S_DRILL_CLIENT_PORT: "23795",
        OCI_K8S_DRILL_PEER_PORT: "23805",
      };
      const r = script("oci-k8s-etcd-drill", ["run"], drillEnv);
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
