/**
 * docs/operations.md's Disaster recovery commands that set config, run as the page gives them with
 * the real Pulumi CLI (tools/engine/bin/pulumi) in a temporary HOME, PULUMI_HOME and local backend:
 * the recovery certificate from its file, and step 3's values from an opened bundle piped into
 * `pulumi config set --secret`. The plan then decrypts them and the program's config accepts them.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { restoredPkiProblem } from "../../config/backups";
import { docCommand, recoveryPair, standInPki } from "../k8s/recovery.fixtures";
import { must, requireFile, run, tempDir } from "../tools";

const ROOT = path.resolve(__dirname, "../..");
const CLI = path.join(ROOT, "tools/engine/bin/pulumi");
const BIN = path.join(ROOT, "node_modules/.bin");
const KEY = Buffer.alloc(32, 9).toString("base64");

describe("Disaster recovery's config commands with the real Pulumi CLI", function () {
  this.timeout(600_000);

  it("the certificate and step 3's values reach the stack as the page sets them, and the plan accepts them", function () {
    requireFile(this, CLI, "build it with tools/engine/build.sh");
    const dir = tempDir("restore-config");
    const work = path.join(dir, "project");
    fs.mkdirSync(work);
    fs.mkdirSync(path.join(dir, "home"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(work, "Pulumi.yaml"));
    for (const stack of ["dev", "kubeadm"])
      fs.copyFileSync(path.join(ROOT, "Pulumi.dev.yaml"), path.join(work, `Pulumi.${stack}.yaml`));
    const env = {
      HOME: path.join(dir, "home"),
      PULUMI_HOME: path.join(dir, "home", ".pulumi"),
      PULUMI_CONFIG_PASSPHRASE: "restore-config-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PATH: `${path.dirname(CLI)}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    };
    const sh = (command: string) => {
      const r = run("sh", ["-c", command], { cwd: work, env, timeout: 120_000 });
      assert.equal(r.status, 0, `${command}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };
    // The operator's files: the recovery pair, and an opened bundle in `recovered`.
    const pair = recoveryPair();
    for (const f of ["recovery.crt", "recovery.key"]) fs.copyFileSync(path.join(pair.dir, f), path.join(work, f));
    const recovered = standInPki("recovered");
    fs.cpSync(recovered, path.join(work, "recovered"), { recursive: true });
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      fs.writeFileSync(path.join(work, file), text, { mode: 0o600 });
    };
    write("recovered/var/lib/rancher/k3s/server/token", "K10feedbeef0123::server:TheOldStacksTokenValue0123456789\n");
    write(
      "recovered/etc/kubernetes/oci-k8s/encryption-config.yaml",
      `kind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: key1\n        secret: ${KEY}\n  - identity: {}\n`,
    );
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "restore-config", "-f", path.join(dir, "key")]);

    sh("pulumi login --local");
    const bucket = [
      "pulumi config set etcdBackupBucket oci-k8s-etcd",
      "pulumi config set etcdBackupEndpoint ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com",
      "pulumi config set etcdBackupRegion eu-frankfurt-1",
      "pulumi config set --secret etcdBackupAccessKey AccessKeyForTheBucket",
      "pulumi config set --secret etcdBackupSecretKey SecretKeyForTheBucket",
      `pulumi config set sshPublicKey "$(cat ${dir}/key.pub)"`,
      `pulumi config set --secret sshPrivateKey < ${dir}/key`,
      docCommand("pulumi config set etcdBackupRecoveryCertificate < "),
    ];
    // k3s, a new stack: the token.
    sh("pulumi stack select --create dev");
    for (const c of [...bucket, docCommand("sed 's/.*::server://' ")]) sh(c);
    assert.equal(sh("pulumi config get restoreClusterToken").trim(), "TheOldStacksTokenValue0123456789");
    assert.equal(sh("pulumi config get etcdBackupRecoveryCertificate").trim(), pair.cert.trim());
    // kubeadm, a new stack: the CAs and the encryption key.
    sh("pulumi stack select --create kubeadm");
    for (const c of [
      ...bucket,
      "pulumi config set distribution kubeadm",
      docCommand("tar -czf - -C recovered "),
      docCommand("sed -n 's/^ *secret: //p' "),
    ])
      sh(c);
    assert.equal(restoredPkiProblem(sh("pulumi config get restoreKubeadmPki").trim()), undefined);
    assert.equal(sh("pulumi config get restoreEncryptionKey").trim(), KEY);
    for (const stack of ["dev", "kubeadm"]) {
      const text = fs.readFileSync(path.join(work, `Pulumi.${stack}.yaml`), "utf8");
      assert.doesNotMatch(text, /TheOldStacksTokenValue|PRIVATE KEY|etc\/kubernetes/);
      assert.doesNotMatch(text, new RegExp(KEY.replace(/[+/]/g, "\\$&")));
    }

    for (const stack of ["dev", "kubeadm"]) {
      const plan = run(
        path.join(BIN, "tsx"),
        [path.join(ROOT, "scripts/plan.ts"), stack, "--file", path.join(work, `Pulumi.${stack}.yaml`)],
        {
          cwd: ROOT,
          env,
          timeout: 240_000,
        },
      );
      const out = plan.stdout + plan.stderr;
      assert.equal(plan.status, 0, `${stack}: ${out.slice(-3000)}`);
      assert.match(plan.stdout, /Encrypted values decrypted with the Pulumi CLI: .*oci-k8s:restore/, out.slice(-2000));
      assert.doesNotMatch(out, /TheOldStacksTokenValue/);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
