/**
 * The rebuild from the bucket (docs/operations.md, Disaster recovery), kubeadm: a real etcd
 * (Debian's 3.4, and 3.6 from tools/etcd) on an old host takes a snapshot and a recovery bundle to
 * a local S3 endpoint on loopback (SigV4 checked); the host is removed; a fresh, empty host gets
 * the CAs, the encryption config and the data back from nothing but the bucket's objects and the
 * operator's key. Only 127.0.0.72-73; every process is stopped by its PID at the end.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { requireFile, run, tempDir } from "../tools";
import { certificates, etcdManifest, FLAVOURS, KUBELET, start, stopAll, until } from "./etcd.fixtures";
import { restoredPkiProblem } from "../../config/backups";
import {
  docCommand,
  bucket,
  DECRYPT,
  ENCRYPTION_KEY,
  host,
  recoveryPair,
  S3_KEY,
  s3,
  SEALED_KEY,
  SEALED_LIST,
  write,
} from "./recovery.fixtures";

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
      // Step 3's commands, as the page gives them, on the bundle opened in `recovered`: values the config accepts.
      const operator = tempDir("operator");
      fs.mkdirSync(path.join(operator, "recovered"));
      const bundlePath = path.join(downloads, path.basename(newest("recovery-")));
      assert.equal(run("sh", ["-c", DECRYPT(bundlePath, pair.key, path.join(operator, "recovered"))]).status, 0);
      const value = (start: string) => {
        const r = run("sh", ["-c", docCommand(start).split(" | pulumi config set")[0]], { cwd: operator });
        assert.equal(r.status, 0, r.stderr);
        return r.stdout;
      };
      assert.equal(restoredPkiProblem(value("tar -czf - -C recovered etc/kubernetes/pki")), undefined);
      assert.equal(value("sed -n 's/^ *secret: //p'").trim(), ENCRYPTION_KEY);

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
