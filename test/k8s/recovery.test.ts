/**
 * The recovery bundle (recovery.sh): real openssl and tar, a local S3 endpoint on loopback that
 * verifies SigV4 as S3 does (etcd.fixtures.ts), fakes for k3s and its kubectl. Only 127.0.0.71;
 * every process is stopped by its PID at the end.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { run, tempDir } from "../tools";
import { stopAll } from "./etcd.fixtures";
import {
  docCommand,
  bundles,
  bucket,
  DECRYPT,
  host,
  recoveryPair,
  S3_KEY,
  s3,
  SEALED_KEY,
  SEALED_LIST,
  TOKEN,
  write,
} from "./recovery.fixtures";

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
    // Step 3 reads the token from where the page says.
    const operator = tempDir("recovery-operator");
    fs.renameSync(fresh, path.join(operator, "recovered"));
    const token = run("sh", ["-c", docCommand("sed 's/.*::server://' ").split(" | pulumi config set")[0]], { cwd: operator });
    assert.equal(token.stdout, "ClusterTokenThatMustNeverBeLogged\n", token.stderr);
    fs.renameSync(path.join(operator, "recovered"), fresh);
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
