/**
 * The recovery bundle (recovery.sh) and the rebuild from the bucket (docs/operations.md, Disaster
 * recovery): real openssl and tar, a local S3 endpoint on loopback that verifies SigV4 as S3 does
 * (etcd.fixtures.ts), fakes for k3s and kubectl. The kubeadm rebuild runs a real etcd (Debian's
 * 3.4, and 3.6 from tools/etcd) on a fresh, empty host from nothing but the bucket's objects and
 * the operator's key. Only 127.0.0.7x addresses; every process is stopped by its PID at the end.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { encodeSettings, scriptText } from "../../k8s/bootstrap/scripts";
import { requireFile, run, Run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";
import { certificates, etcdManifest, FLAVOURS, KUBELET, S3_SERVER, start, stopAll, until } from "./etcd.fixtures";
import { recoveryPair } from "./recovery.fixtures";

const S3_KEY = "S3SecretKeyThatMustNeverBeLogged";
const TOKEN = "K10abcdef0123456789::server:ClusterTokenThatMustNeverBeLogged";
const SEALED_KEY = "SealedSecretsPrivateKeyThatMustNeverBeLogged";
const ENCRYPTION_KEY = "c2VjcmV0Ym94S2V5VGhhdE11c3ROZXZlckJlTG9nZ2Vk";
/** What the fake kubectl answers for the Sealed Secrets keys: one key Secret, as a List. */
const SEALED_LIST = `apiVersion: v1
items:
- apiVersion: v1
  data:
    tls.crt: Y2VydA==
    tls.key: ${Buffer.from(SEALED_KEY).toString("base64")}
  kind: Secret
  metadata:
    labels:
      sealedsecrets.bitnami.com/sealed-secrets-key: active
    name: sealed-secrets-key8x2lz
    namespace: kube-system
  type: kubernetes.io/tls
kind: List
`;

/** The operator's decryption, as docs/operations.md gives it (step 2), into DEST. */
export const DECRYPT = (bundle: string, key: string, dest: string) =>
  `openssl cms -decrypt -binary -inform DER -in ${bundle} -inkey ${key} | tar -xzp --no-same-owner -C ${dest}`;

/** The loopback S3 endpoint, one per suite, with its store. */
async function s3(dir: string, ip: string): Promise<{ endpoint: string; store: string }> {
  const store = path.join(dir, "s3");
  fs.mkdirSync(store);
  fs.writeFileSync(path.join(dir, "s3.js"), S3_SERVER);
  start(process.execPath, [path.join(dir, "s3.js"), ip, "AKIDTEST", S3_KEY, "eu-frankfurt-1", store]);
  await until("the S3 endpoint", () => fs.existsSync(path.join(store, "port")));
  return { endpoint: `${ip}:${fs.readFileSync(path.join(store, "port"), "utf8")}`, store };
}

/**
 * A host: its root, and a bin of shims that log every command line (to argv.log) before running
 * the real openssl, tar, gzip, curl and python3, plus the fakes a test adds.
 */
function host(dir: string, name: string) {
  const root = path.join(dir, name);
  const bin = path.join(dir, `${name}-bin`);
  fs.mkdirSync(root);
  fs.mkdirSync(bin);
  const argv = path.join(dir, "argv.log");
  for (const tool of ["openssl", "tar", "gzip", "curl", "python3"]) {
    const real = run("sh", ["-c", `command -v ${tool}`], { env: { PATH: "/usr/bin:/bin" } }).stdout.trim();
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> "${argv}"\nexec ${real} "$@"\n`, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(bin, "hostname"), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
  const env = {
    PATH: `${bin}:${systemTools(SCRIPT_TOOLS)}`,
    OCI_K8S_ROOT: root,
    OCI_K8S_RETRY_DELAY: "0",
    OCI_K8S_S3_SCHEME: "http",
  };
  const install = (script: "recovery" | "etcd-snapshot" | "etcd-restore", settings: Record<string, string>): Run =>
    run("bash", ["-c", scriptText(script), script, "install"], {
      env,
      input: encodeSettings({ SCRIPT: scriptText(script), ...settings }),
    });
  const tool = (name: string, args: string[], extra: Record<string, string> = {}): Run =>
    run(path.join(root, "usr/local/sbin", name), args, { env: { ...env, ...extra }, timeout: 40_000 });
  return { root, bin, env, install, tool, argv: () => (fs.existsSync(argv) ? fs.readFileSync(argv, "utf8") : "") };
}

const bucket = (endpoint: string) => ({
  SCHEDULE: "0 */6 * * *",
  RETENTION: "2",
  S3_ENDPOINT: endpoint,
  S3_REGION: "eu-frankfurt-1",
  S3_BUCKET: "etcd",
  S3_FOLDER: "dev",
  S3_ACCESS_KEY: "AKIDTEST",
  S3_SECRET_KEY: S3_KEY,
});

const write = (file: string, text: string, mode = 0o600) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
};

/** The bucket's bundles of host NAME, oldest first. */
const bundles = (store: string, name: string) =>
  fs.existsSync(path.join(store, "etcd/dev"))
    ? fs
        .readdirSync(path.join(store, "etcd/dev"))
        .filter((f) => f.startsWith(`recovery-${name}-`))
        .sort()
    : [];

describe("recovery.sh: the bundle beside the snapshots (k3s, fakes, a local S3)", function () {
  this.timeout(60_000);
  let dir = "";
  let endpoint = "";
  let store = "";
  let pair: ReturnType<typeof recoveryPair>;

  before(async () => {
    dir = tempDir("recovery");
    ({ endpoint, store } = await s3(dir, "127.0.0.71"));
    pair = recoveryPair();
  });
  after(stopAll);

  /** A k3s server with its token, and a `k3s kubectl` that answers the Sealed Secrets keys (or fails). */
  function server(name: string) {
    const h = host(dir, name);
    write(path.join(h.root, "var/lib/rancher/k3s/server/token"), `${TOKEN}\n`);
    fs.writeFileSync(
      path.join(h.bin, "k3s"),
      `#!/usr/bin/env bash\n[[ -n "\${FAKE_KUBECTL_FAIL:-}" ]] && { echo "The connection to the server 127.0.0.1:6443 was refused" >&2; exit 1; }\n[[ "$*" == "kubectl -n kube-system get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml" ]] || exit 2\ncat <<'EOF'\n${SEALED_LIST}EOF\n`,
      { mode: 0o755 },
    );
    const settings = { DIST: "k3s", KUBECTL: "k3s kubectl", RECOVERY_CERTIFICATE: pair.cert, ...bucket(endpoint) };
    return { ...h, settings };
  }

  it("install puts the tool, the certificate, root-only settings and a cron entry; no key in its output", () => {
    const h = server("install");
    const r = h.install("recovery", h.settings);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /recovery bundles scheduled \(0 \*\/6 \* \* \*\), encrypted to subject=CN ?= ?oci-k8s-recovery, uploaded to etcd\/dev/,
    );
    assert.equal(fs.statSync(path.join(h.root, "etc/oci-k8s/recovery.settings")).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(path.join(h.root, "etc/oci-k8s/recovery.crt"), "utf8").trim(), pair.cert.trim());
    assert.equal(
      fs.readFileSync(path.join(h.root, "etc/cron.d/oci-k8s-recovery"), "utf8").trim(),
      "0 */6 * * * root /usr/local/sbin/oci-k8s-recovery run 2>&1 | logger -t oci-k8s-recovery",
    );
    assert.ok(!(r.stdout + r.stderr).includes(S3_KEY));
    const key = h.install("recovery", { ...h.settings, RECOVERY_CERTIFICATE: fs.readFileSync(pair.key, "utf8") });
    assert.notEqual(key.status, 0, "a private key is no certificate");
    assert.match(key.stderr, /not a PEM certificate/);
  });

  it("run uploads the token and the Sealed Secrets keys encrypted (AES-256-GCM) to the certificate; nothing secret in logs or command lines", () => {
    const h = server("run");
    assert.equal(h.install("recovery", h.settings).status, 0);
    const r = h.tool("oci-k8s-recovery", ["run"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /uploaded etcd\/dev\/recovery-run-\d{8}T\d{6}Z\.cms \(1 files, 1 Sealed Secrets key lines/);
    const [name] = bundles(store, "run");
    const object = fs.readFileSync(path.join(store, "etcd/dev", name));
    for (const secret of [TOKEN, "ClusterTokenThatMustNeverBeLogged", SEALED_KEY, Buffer.from(SEALED_KEY).toString("base64")]) {
      assert.ok(!object.includes(secret), "the bucket's object is not encrypted");
      assert.ok(!(r.stdout + r.stderr + h.argv()).includes(secret), `${secret} reached a log or a command line`);
    }
    assert.ok(!(r.stdout + r.stderr + h.argv()).includes(S3_KEY));
    const printed = run("openssl", [
      "cms",
      "-cmsout",
      "-print",
      "-inform",
      "DER",
      "-in",
      path.join(store, "etcd/dev", name),
    ]).stdout;
    assert.match(printed, /authEnvelopedData/);
    assert.match(printed, /aes-256-gcm/i);
    // The operator opens it with the key (docs step 2) on an empty directory: the token, where k3s keeps it.
    const fresh = tempDir("recovery-fresh");
    const opened = run("sh", ["-c", DECRYPT(path.join(store, "etcd/dev", name), pair.key, fresh)]);
    assert.equal(opened.status, 0, opened.stderr);
    assert.equal(fs.readFileSync(path.join(fresh, "var/lib/rancher/k3s/server/token"), "utf8"), `${TOKEN}\n`);
    assert.equal(fs.readFileSync(path.join(fresh, "var/lib/oci-k8s/recovery/sealed-secrets-keys.yaml"), "utf8"), SEALED_LIST);
    assert.match(
      fs.readFileSync(path.join(fresh, "var/lib/oci-k8s/recovery/MANIFEST"), "utf8"),
      /^distribution k3s\nhost run\n[\s\S]*file \/var\/lib\/rancher\/k3s\/server\/token [0-9a-f]{64}$/m,
    );
    assert.equal(fs.statSync(path.join(fresh, "var/lib/rancher/k3s/server/token")).mode & 0o777, 0o600);
    // Another key does not open it.
    const other = recoveryPair();
    assert.notEqual(
      run("sh", ["-c", DECRYPT(path.join(store, "etcd/dev", name), other.key, tempDir("recovery-other"))]).status,
      0,
    );
  });

  it("keeps the newest RETENTION bundles of this server in the bucket, and leaves the snapshots alone", () => {
    const h = server("prune");
    assert.equal(h.install("recovery", h.settings).status, 0);
    const others = [
      "recovery-prune-20250101T000000Z.cms",
      "recovery-prune-20250102T000000Z.cms",
      "etcd-snapshot-prune-20250101T000000Z.db",
      "recovery-other-20250101T000000Z.cms",
    ];
    for (const old of others) write(path.join(store, "etcd/dev", old), "old");
    assert.equal(h.tool("oci-k8s-recovery", ["run"]).status, 0);
    const left = bundles(store, "prune");
    assert.equal(left.length, 2, left.join(", "));
    assert.equal(left[0], "recovery-prune-20250102T000000Z.cms");
    assert.ok(fs.existsSync(path.join(store, "etcd/dev/etcd-snapshot-prune-20250101T000000Z.db")));
    assert.ok(fs.existsSync(path.join(store, "etcd/dev/recovery-other-20250101T000000Z.cms")), "another server's bundles stay");
  });

  it("uploads nothing when the token is missing or kubectl cannot read the keys, and says why", () => {
    const h = server("fail");
    assert.equal(h.install("recovery", h.settings).status, 0);
    const before = bundles(store, "fail");
    const down = h.tool("oci-k8s-recovery", ["run"], { FAKE_KUBECTL_FAIL: "1" });
    assert.notEqual(down.status, 0);
    assert.match(
      down.stderr,
      /FAILED: kubectl could not read the Sealed Secrets keys: The connection to the server 127\.0\.0\.1:6443 was refused; nothing was uploaded/,
    );
    fs.rmSync(path.join(h.root, "var/lib/rancher/k3s/server/token"));
    const gone = h.tool("oci-k8s-recovery", ["run"]);
    assert.notEqual(gone.status, 0);
    assert.match(
      gone.stderr,
      /FAILED: \/var\/lib\/rancher\/k3s\/server\/token is missing, so the bundle would not restore this cluster; nothing was uploaded/,
    );
    assert.deepEqual(bundles(store, "fail"), before);
  });

  it("list and fetch read the folder on a new server; fetch refuses a name outside it", () => {
    const h = server("list");
    assert.equal(h.install("recovery", h.settings).status, 0);
    write(path.join(store, "etcd/dev/etcd-snapshot-server-9-20260101T000000Z.db"), "snap");
    const listed = h.tool("oci-k8s-recovery", ["list"]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(listed.stdout.split("\n").includes("dev/etcd-snapshot-server-9-20260101T000000Z.db"), listed.stdout);
    const file = path.join(h.root, "snap.db");
    const got = h.tool("oci-k8s-recovery", ["fetch", "dev/etcd-snapshot-server-9-20260101T000000Z.db", file]);
    assert.equal(got.status, 0, got.stderr);
    assert.equal(fs.readFileSync(file, "utf8"), "snap");
    const outside = h.tool("oci-k8s-recovery", ["fetch", "../other/x", file]);
    assert.notEqual(outside.status, 0);
    assert.match(outside.stderr, /is not an object name of dev/);
  });
});

for (const f of FLAVOURS) {
  describe(`rebuild from the bucket, kubeadm, etcd ${f.version} (real, on a fresh host)`, function () {
    this.timeout(90_000);
    const ip = f.version === "3.4" ? "127.0.0.72" : "127.0.0.73";
    const client = `https://${ip}:23792`;
    const peer = `http://${ip}:23802`;
    let dir = "";

    before(function () {
      for (const tool of [f.etcd, f.etcdctl, ...(f.etcdutl ? [f.etcdutl] : [])])
        requireFile(this, tool, f.version === "3.4" ? "apt-get install etcd-server etcd-client" : "run tools/etcd/build.sh");
      dir = tempDir(`recovery-etcd-${f.version}`);
    });
    after(stopAll);

    /** A kubeadm control plane's etcd: the stand-in kubelet runs it from its manifest in `root`. */
    async function controlPlane(h: ReturnType<typeof host>) {
      const pki = path.join(h.root, "etc/kubernetes/pki/etcd");
      certificates(pki, ip);
      for (const [link, target] of [["etcd", f.etcd], ["etcdctl", f.etcdctl], ...(f.etcdutl ? [["etcdutl", f.etcdutl]] : [])])
        fs.symlinkSync(target, path.join(h.bin, link));
      write(path.join(h.root, "etc/kubernetes/manifests/kube-apiserver.yaml"), "kind: Pod\n");
      write(path.join(h.root, "etc/kubernetes/manifests/etcd.yaml"), etcdManifest(client, peer, pki, f.image));
      fs.writeFileSync(path.join(h.root, "kubelet.sh"), KUBELET, { mode: 0o755 });
      const kubelet = start(path.join(h.root, "kubelet.sh"), [path.join(h.root, "etc/kubernetes/manifests"), h.root, f.etcd]);
      const ctl = (cert: { crt: string; key: string }, ...args: string[]) =>
        run(
          f.etcdctl,
          [
            `--endpoints=${client}`,
            `--cacert=${pki}/ca.crt`,
            `--cert=${cert.crt}`,
            `--key=${cert.key}`,
            "--dial-timeout=2s",
            "--command-timeout=3s",
            ...args,
          ],
          {
            env: { ETCDCTL_API: "3" },
          },
        );
      const own = { crt: `${pki}/healthcheck-client.crt`, key: `${pki}/healthcheck-client.key` };
      await until("etcd to serve", () => ctl(own, "endpoint", "health").status === 0);
      return { pki, ctl, own, kubelet };
    }

    it("a new host with nothing but the bucket's objects and the operator's key gets the CAs, the encryption config and the data back", async () => {
      const { endpoint, store } = await s3(dir, ip);
      const pair = recoveryPair();
      const kubectl = (h: ReturnType<typeof host>) =>
        fs.writeFileSync(path.join(h.bin, "kubectl"), `#!/usr/bin/env bash\ncat <<'EOF'\n${SEALED_LIST}EOF\n`, { mode: 0o755 });
      const settings = {
        DIST: "kubeadm",
        KUBECTL: "kubectl --kubeconfig /etc/kubernetes/admin.conf",
        RECOVERY_CERTIFICATE: pair.cert,
        ...bucket(endpoint),
      };

      // The old cluster: its CAs, service-account key, encryption config, data; a snapshot and a bundle in the bucket.
      const old = host(dir, "old");
      kubectl(old);
      const a = await controlPlane(old);
      const pkiFiles = ["ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key"];
      for (const file of pkiFiles) write(path.join(old.root, "etc/kubernetes/pki", file), `${file} of the old cluster\n`);
      const encryption = `kind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: key1\n        secret: ${ENCRYPTION_KEY}\n  - identity: {}\n`;
      write(path.join(old.root, "etc/kubernetes/oci-k8s/encryption-config.yaml"), encryption);
      assert.equal(a.ctl(a.own, "put", "/registry/namespaces/kube-system", "ns").status, 0);
      assert.equal(a.ctl(a.own, "put", "/registry/secrets/default/app", "sealed-by-the-old-cluster").status, 0);
      for (const [script, s] of [
        ["etcd-snapshot", bucket(endpoint)],
        ["recovery", settings],
      ] as const) {
        const r = old.install(script, s);
        assert.equal(r.status, 0, r.stderr);
      }
      const snap = old.tool("oci-k8s-etcd-snapshot", ["run"], { OCI_K8S_ETCD_ENDPOINT: client });
      assert.equal(snap.status, 0, snap.stderr);
      const bundle = old.tool("oci-k8s-recovery", ["run"]);
      assert.equal(bundle.status, 0, bundle.stderr);
      assert.match(bundle.stderr, /\(9 files, 1 Sealed Secrets key lines/);
      // The bucket holds the snapshot and the bundle, nothing else; the CA key is not readable in it.
      const objects = fs.readdirSync(path.join(store, "etcd/dev"));
      assert.deepEqual(objects.map((o) => o.replace(/\d{8}T\d{6}Z/, "<time>")).sort(), [
        "etcd-snapshot-old-<time>.db",
        "recovery-old-<time>.cms",
      ]);
      const sealedObject = fs.readFileSync(
        path.join(
          store,
          "etcd/dev",
          objects.find((o) => o.startsWith("recovery-"))!,
        ),
      );
      assert.ok(!sealedObject.includes("ca.key of the old cluster") && !sealedObject.includes(ENCRYPTION_KEY));
      const kept = Object.fromEntries(
        [...pkiFiles, "etcd/ca.crt", "etcd/ca.key"].map((x) => [
          x,
          fs.readFileSync(path.join(old.root, "etc/kubernetes/pki", x), "utf8"),
        ]),
      );
      // A client of the old cluster (its certificate signed by the old etcd CA) keeps its files.
      const client_ = path.join(dir, "old-client");
      fs.mkdirSync(client_);
      for (const x of ["healthcheck-client.crt", "healthcheck-client.key"])
        fs.copyFileSync(path.join(a.pki, x), path.join(client_, x));
      const logs = snap.stderr + bundle.stderr + old.argv();
      for (const secret of [ENCRYPTION_KEY, SEALED_KEY, S3_KEY, kept["ca.key"], kept["etcd/ca.key"].split("\n")[1]])
        assert.ok(!logs.includes(secret), "a secret reached a log or a command line");

      // The cluster is gone: its kubelet and etcd stopped, its host removed; the bucket stays.
      a.kubelet.kill("SIGTERM");
      await until("the old etcd to stop", () => a.ctl(a.own, "endpoint", "health").status !== 0);
      fs.rmSync(old.root, { recursive: true, force: true });

      // The new host: the operator fetches the newest bundle and opens it onto the empty root
      // before the install (docs steps 1-3), so kubeadm init finds the old CAs.
      const fresh = host(dir, "fresh");
      kubectl(fresh);
      assert.equal(fresh.install("recovery", settings).status, 0);
      const listed = fresh.tool("oci-k8s-recovery", ["list"]);
      assert.equal(listed.status, 0, listed.stderr);
      const names = listed.stdout.trim().split("\n");
      const newest = (prefix: string) => names.find((n) => n.startsWith(`dev/${prefix}`))!;
      const downloads = path.join(dir, "downloads");
      fs.mkdirSync(downloads);
      for (const key of [newest("recovery-"), newest("etcd-snapshot-")])
        assert.equal(fresh.tool("oci-k8s-recovery", ["fetch", key, path.join(downloads, path.basename(key))]).status, 0);
      const opened = run("sh", ["-c", DECRYPT(path.join(downloads, path.basename(newest("recovery-"))), pair.key, fresh.root)]);
      assert.equal(opened.status, 0, opened.stderr);
      for (const [file, text] of Object.entries(kept))
        assert.equal(fs.readFileSync(path.join(fresh.root, "etc/kubernetes/pki", file), "utf8"), text, file);
      assert.equal(fs.readFileSync(path.join(fresh.root, "etc/kubernetes/oci-k8s/encryption-config.yaml"), "utf8"), encryption);
      assert.equal(fs.statSync(path.join(fresh.root, "etc/kubernetes/pki/etcd/ca.key")).mode & 0o777, 0o600);

      // kubeadm init on it (the stand-in: leaf certificates signed by the CA it finds, a new empty etcd).
      const b = await controlPlane(fresh);
      assert.equal(
        b.ctl(b.own, "get", "/registry/secrets/default/app", "--print-value-only").stdout.trim(),
        "",
        "a new etcd is empty",
      );
      // Restore, kubeadm (step 3 of Restore), from the fetched snapshot.
      assert.equal(fresh.install("etcd-restore", { MEMBERS: "" }).status, 0);
      const restored = fresh.tool(
        "oci-k8s-etcd-restore",
        ["kubeadm", "restore", path.join(downloads, path.basename(newest("etcd-snapshot-")))],
        {
          OCI_K8S_ETCDUTL: f.etcdutl ?? "",
        },
      );
      assert.equal(restored.status, 0, restored.stderr);
      // The old cluster's client, by its old certificate: the same CA, and the old data.
      const old_ = { crt: path.join(client_, "healthcheck-client.crt"), key: path.join(client_, "healthcheck-client.key") };
      await until(
        "the restored etcd to serve the old client",
        () =>
          b.ctl(old_, "get", "/registry/secrets/default/app", "--print-value-only").stdout.trim() === "sealed-by-the-old-cluster",
      );
    });
  });
}
