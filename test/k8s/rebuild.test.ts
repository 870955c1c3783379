/**
 * A rebuild from the bucket on a new stack (docs/operations.md, Disaster recovery): the old
 * cluster's token, encryption key and kubeadm CAs, given as restore* config, replace the new
 * stack's (the graph, under Pulumi's mock runtime), and recovery.sh place-pki puts the CAs on the
 * first server before kubeadm init, which uses them (kubeadm v1.34.4, tools/kube, where built).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { restoredPkiProblem } from "../../config/backups";
import { encodeSettings, scriptText } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, ofType, runOk } from "../../scripts/mock-program";
import { requireFile, run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";
import { cmd, dependsOn, oneServer, plainInputs, settingsOf } from "./bootstrap.fixtures";
import { PKI_FILES, pkiValue, standInPki } from "./recovery.fixtures";

const OLD_TOKEN = "K10a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8::server:TheOldClusterTokenFromTheBundle";
const OLD_KEY = Buffer.alloc(32, 7).toString("base64");
/** The cluster's own random token or encryption key (the platform makes passwords of its own). */
const made = (r: Awaited<ReturnType<typeof runOk>>, type: string, suffix: string) =>
  ofType(r, type).filter((x) => x.name.endsWith(suffix));

describe("rebuild on a new stack: the old cluster's secrets in place of new ones", () => {
  it("k3s and RKE2: restoreClusterToken is every server's and agent's token, and no new token is made", async () => {
    for (const distribution of ["k3s", "rke2"]) {
      const fresh = await runOk("rebuild", { ...MINIMAL_CONFIG, distribution, nodes: [...oneServer] });
      assert.equal(made(fresh, "random:index/randomPassword:RandomPassword", "-token").length, 1, "a new stack makes its token");
      const r = await runOk("rebuild", {
        ...MINIMAL_CONFIG,
        distribution,
        nodes: [...oneServer],
        restoreClusterToken: `${OLD_TOKEN}\n`,
      });
      assert.deepEqual(made(r, "random:index/randomPassword:RandomPassword", "-token"), []);
      for (const node of ["server-1", "agent-1"])
        assert.equal(parse(settingsOf(cmd(r, `${node}-install`)).CONFIG).token, OLD_TOKEN);
      for (const text of plainInputs(r))
        assert.ok(!text.includes("TheOldClusterTokenFromTheBundle"), `the token leaks in ${text.slice(0, 120)}`);
    }
  });

  it("kubeadm: restoreEncryptionKey in every server's EncryptionConfiguration; restoreKubeadmPki placed on the first server before its install", async () => {
    const pki = pkiValue(standInPki("old"));
    const r = await runOk("rebuild", {
      ...MINIMAL_CONFIG,
      distribution: "kubeadm",
      nodes: [...oneServer],
      restoreEncryptionKey: OLD_KEY,
      restoreKubeadmPki: pki,
    });
    assert.deepEqual(made(r, "random:index/randomBytes:RandomBytes", "-encryption-key"), []);
    assert.match(
      settingsOf(cmd(r, "server-1-install")).ENCRYPTION_CONFIG,
      new RegExp(`secret: ${OLD_KEY.replace(/[+/]/g, "\\$&")}`),
    );
    const place = cmd(r, "server-1-restore-pki");
    assert.match(place.inputs.create, / recovery place-pki$/);
    assert.ok(place.secretInputs.includes("stdin"));
    assert.equal(settingsOf(place).PKI, pki);
    assert.ok(dependsOn(cmd(r, "server-1-install"), place), "the install waits for the CAs");
    assert.throws(() => cmd(r, "agent-1-restore-pki"));
    for (const text of plainInputs(r)) assert.ok(!text.includes(pki.slice(0, 40)), "the PKI leaks in plain inputs");
    const plain = await runOk("rebuild", { ...MINIMAL_CONFIG, distribution: "kubeadm", nodes: [...oneServer] });
    assert.throws(() => cmd(plain, "server-1-restore-pki"), "nothing to place on a plain stack");
    assert.equal(made(plain, "random:index/randomBytes:RandomBytes", "-encryption-key").length, 1, "a new stack makes its key");
  });
});

describe("restoreKubeadmPki is checked before any resource", () => {
  it("reads the tar GNU tar writes: exactly the eight files, or it names what is missing or extra", () => {
    assert.equal(restoredPkiProblem(pkiValue(standInPki("old"))), undefined);
    const extra = [...PKI_FILES, "apiserver.key"];
    assert.equal(
      restoredPkiProblem(pkiValue(standInPki("x", extra), extra)),
      "holds etc/kubernetes/pki/apiserver.key, which is not kubeadm's CA or service-account key",
    );
    assert.equal(
      restoredPkiProblem(pkiValue(standInPki("y", PKI_FILES.slice(2)), PKI_FILES.slice(2))),
      "lacks etc/kubernetes/pki/ca.crt, etc/kubernetes/pki/ca.key",
    );
  });
});

describe("recovery.sh place-pki (real tar)", () => {
  const place = (root: string, pki: string) =>
    run("bash", ["-c", scriptText("recovery"), "recovery", "place-pki"], {
      env: { PATH: systemTools([...SCRIPT_TOOLS, "tar", "gzip"]), OCI_K8S_ROOT: root },
      input: encodeSettings({ PKI: pki }),
    });
  const read = (root: string, f: string) => fs.readFileSync(path.join(root, "etc/kubernetes/pki", f), "utf8");

  it("puts the eight files where kubeadm looks, keys root-only; a rerun with the same CA changes nothing", () => {
    const root = tempDir("place-pki");
    const r = place(root, pkiValue(standInPki("old")));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /the old cluster's CAs and service-account key are in \/etc\/kubernetes\/pki: kubeadm init uses them/);
    for (const f of PKI_FILES) assert.equal(read(root, f), `${f} of old\n`);
    for (const f of PKI_FILES.filter((x) => x.endsWith(".key")))
      assert.equal(fs.statSync(path.join(root, "etc/kubernetes/pki", f)).mode & 0o777, 0o600, f);
    const again = place(root, pkiValue(standInPki("old")));
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already in place/);
  });

  it("refuses another CA already on the server, a file that is not kubeadm's CA or key, and a missing one; writes nothing", () => {
    const root = tempDir("place-pki-other");
    assert.equal(place(root, pkiValue(standInPki("this-cluster"))).status, 0);
    const other = place(root, pkiValue(standInPki("old")));
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /FAILED: this server already has another CA in \/etc\/kubernetes\/pki; nothing was written/);
    assert.equal(read(root, "ca.key"), "ca.key of this-cluster\n");
    const empty = tempDir("place-pki-bad");
    const extra = place(empty, pkiValue(standInPki("old", [...PKI_FILES, "apiserver.key"]), [...PKI_FILES, "apiserver.key"]));
    assert.match(
      extra.stderr,
      /FAILED: restoreKubeadmPki holds etc\/kubernetes\/pki\/apiserver\.key, which is not kubeadm's CA or service-account key/,
    );
    const missing = place(empty, pkiValue(standInPki("old", PKI_FILES.slice(1)), PKI_FILES.slice(1)));
    assert.match(missing.stderr, /FAILED: restoreKubeadmPki lacks etc\/kubernetes\/pki\/ca\.crt; nothing was written/);
    assert.deepEqual(fs.readdirSync(empty), [], "nothing was written");
  });

  it("kubeadm init's certificate phase uses the placed CAs and service-account key: new leaf certificates signed by the old CA", function () {
    const kubeadm = path.resolve(__dirname, "../../tools/kube/bin/kubeadm");
    requireFile(this, kubeadm, "run tools/kube/build.sh");
    // The old cluster's PKI, made by kubeadm itself.
    const old = tempDir("kubeadm-old");
    const pkiDir = path.join(old, "etc/kubernetes/pki");
    const certs = (dir: string) =>
      run(kubeadm, ["init", "phase", "certs", "all", "--kubernetes-version", "v1.34.4", "--cert-dir", dir]);
    assert.equal(certs(pkiDir).status, 0);
    const root = tempDir("kubeadm-new");
    assert.equal(place(root, pkiValue(old)).status, 0);
    const r = certs(path.join(root, "etc/kubernetes/pki"));
    assert.equal(r.status, 0, r.stderr);
    for (const ca of ["ca", "front-proxy-ca", "etcd/ca"])
      assert.match(r.stdout, new RegExp(`Using existing ${ca} certificate authority`));
    assert.match(r.stdout, /Using the existing "sa" key/);
    const verify = run("openssl", [
      "verify",
      "-CAfile",
      path.join(pkiDir, "ca.crt"),
      path.join(root, "etc/kubernetes/pki/apiserver.crt"),
    ]);
    assert.match(verify.stdout, /apiserver\.crt: OK/);
    const etcdVerify = run("openssl", [
      "verify",
      "-CAfile",
      path.join(pkiDir, "etcd/ca.crt"),
      path.join(root, "etc/kubernetes/pki/etcd/server.crt"),
    ]);
    assert.match(etcdVerify.stdout, /server\.crt: OK/);
  });
});
