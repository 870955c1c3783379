/**
 * kubeadm clusters encrypt Secrets at rest, as k3s and RKE2 do: a 32-byte key from the random
 * provider, in an EncryptionConfiguration (apiserver.config.k8s.io/v1, secretbox then identity)
 * that travels on the servers' stdin only and lands in a root-only file, which the API server
 * reads through `encryption-provider-config` and a HostPathMount (kubeadm.k8s.io/v1beta4
 * APIServer.extraArgs and extraVolumes). The generated kubeadm configuration is checked by
 * `kubeadm config validate` where a kubeadm binary is available (tools/kube/bin/kubeadm, KUBEADM,
 * or PATH).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import { ENCRYPTION_CONFIG_PATH } from "../../k8s/bootstrap/kubeadm";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, MOCK_KEY_BASE64, ofType, ROOT, runOk } from "../../scripts/mock-program";
import { fakeBin, missing, tempDir } from "../tools";
import { sandbox } from "./bootstrap-scripts.fixtures";
import { plainInputs } from "./bootstrap.fixtures";

const threeServers = [
  { name: "server-1", role: "server", ocpus: 2, memoryGb: 8 },
  { name: "server-2", role: "server", ocpus: 1, memoryGb: 8 },
  { name: "server-3", role: "server", ocpus: 1, memoryGb: 8 },
  { name: "micro-1", role: "agent", shape: "VM.Standard.E2.1.Micro" },
];

function kubeadmBinary(): string | undefined {
  const candidates = [process.env.KUBEADM, path.join(ROOT, "tools/kube/bin/kubeadm")].filter((c): c is string => !!c);
  const found = candidates.find((c) => fs.existsSync(c));
  if (found) return found;
  const onPath = spawnSync("sh", ["-c", "command -v kubeadm"], { encoding: "utf8" });
  return onPath.status === 0 ? onPath.stdout.trim() : undefined;
}

describe("kubeadm: Secrets encrypted at rest", function () {
  this.timeout(120_000);
  let r: Awaited<ReturnType<typeof runOk>>;
  before(async () => {
    r = await runOk("boot", {
      ...MINIMAL_CONFIG,
      tier: "payg",
      acceptCharges: true,
      budgetAmount: 50,
      distribution: "kubeadm",
      nodes: threeServers,
    });
  });
  const installs = () => ofType(r, "command:remote:Command").filter((c) => c.name.endsWith("-install"));

  it("every server gets the same EncryptionConfiguration (secretbox, a 32-byte random key), on secret stdin only; agents none", () => {
    const key = ofType(r, "random:index/randomBytes:RandomBytes");
    assert.deepEqual(
      key.map((k) => k.inputs.length),
      [32],
    );
    for (const c of installs()) {
      const settings = decodeSettings(c.inputs.stdin);
      if (c.name.startsWith("micro-")) {
        assert.equal(settings.ENCRYPTION_CONFIG, undefined, c.name);
        continue;
      }
      assert.ok(c.secretInputs.includes("stdin"), `${c.name} stdin not secret`);
      const enc = parse(settings.ENCRYPTION_CONFIG);
      assert.equal(enc.apiVersion, "apiserver.config.k8s.io/v1");
      assert.equal(enc.kind, "EncryptionConfiguration");
      assert.deepEqual(enc.resources[0].resources, ["secrets"]);
      const [first, last] = enc.resources[0].providers;
      assert.equal(first.secretbox.keys[0].secret, MOCK_KEY_BASE64);
      assert.equal(Buffer.from(first.secretbox.keys[0].secret, "base64").length, 32);
      assert.deepEqual(last, { identity: {} });
    }
    for (const text of plainInputs(r))
      assert.ok(!text.includes(MOCK_KEY_BASE64), `the key appears unmasked in ${text.slice(0, 120)}`);
  });

  it("the API server reads it: flag and read-only HostPathMount in the ClusterConfiguration; kubeadm config validate accepts it", function () {
    const docs = parseAllDocuments(
      decodeSettings(installs().find((c) => c.name === "server-1-install")!.inputs.stdin).CONFIG,
    ).map((d) => d.toJS());
    const cluster = docs.find((d) => d.kind === "ClusterConfiguration");
    assert.deepEqual(cluster.apiServer.extraArgs, [{ name: "encryption-provider-config", value: ENCRYPTION_CONFIG_PATH }]);
    assert.deepEqual(cluster.apiServer.extraVolumes, [
      {
        name: "encryption-config",
        hostPath: ENCRYPTION_CONFIG_PATH,
        mountPath: ENCRYPTION_CONFIG_PATH,
        readOnly: true,
        pathType: "File",
      },
    ]);
    const found = kubeadmBinary();
    if (!found) return missing(this, "kubeadm", "build it with tools/kube/build.sh, or set KUBEADM");
    const kubeadm: string = found;
    const dir = tempDir("kubeadm-validate");
    const file = path.join(dir, "kubeadm.yaml");
    fs.writeFileSync(file, decodeSettings(installs().find((c) => c.name === "server-1-install")!.inputs.stdin).CONFIG);
    const v = spawnSync(kubeadm, ["config", "validate", "--config", file], { encoding: "utf8" });
    assert.equal(v.status, 0, v.stderr + v.stdout);
    for (const c of installs().filter((x) => x.name !== "server-1-install")) {
      fs.writeFileSync(file, decodeSettings(c.inputs.stdin).CONFIG);
      const j = spawnSync(kubeadm, ["config", "validate", "--config", file], { encoding: "utf8" });
      assert.equal(j.status, 0, `${c.name}: ${j.stderr}${j.stdout}`);
    }
  });

  it("kubeadm.sh writes it root-only before kubeadm init runs", () => {
    const s = sandbox();
    for (const tool of ["apt-get", "apt-mark", "gpg", "containerd", "curl", "kubectl"]) fakeBin(s.bin, tool);
    const file = path.join(s.root, ENCRYPTION_CONFIG_PATH);
    fakeBin(
      s.bin,
      "kubeadm",
      `if [[ "$1 $2" == "init --config" ]]; then
  [[ -f "${file}" ]] || { echo "no encryption config yet" >&2; exit 3; }
  mkdir -p "${s.root}/etc/kubernetes" && echo admin > "${s.root}/etc/kubernetes/admin.conf"
fi`,
    );
    const content = "kind: EncryptionConfiguration";
    const run = s.run("kubeadm", ["init"], {
      VERSION: "v1.34.9",
      CONFIG: "kind: InitConfiguration",
      CNI_MANIFEST: "https://example.invalid/f.yml",
      ENCRYPTION_CONFIG: content,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(fs.readFileSync(file, "utf8"), `${content}\n`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.ok(!run.stderr.includes(content));
  });
});
