/**
 * kubeadm init prints the join command (with its bootstrap token) and the certificate key unless
 * told not to (kubeadm init --skip-token-print, --skip-certificate-key-print; kubernetes
 * cmd/kubeadm/app/cmd/init.go), and its output reaches the deploy log. Its default bootstrap
 * token lives 24 hours (v1beta4 BootstrapToken.ttl default); ours 15 minutes. Commands whose
 * output is secret log nothing (pulumi-command `logging`: stdin is never logged).
 */
import { strict as assert } from "assert";
import { parseAllDocuments } from "yaml";
import { KUBEADM } from "../../k8s/bootstrap/kubeadm";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, ofType, runOk } from "../../scripts/mock-program";
import { fakeBin } from "../tools";
import { sandbox } from "./bootstrap-scripts.fixtures";
import { cmd } from "./bootstrap.fixtures";

const TOKEN = "abcdef.0123456789abcdef";
const KEY = "f".repeat(64);

describe("kubeadm: no join token or certificate key in any log", function () {
  this.timeout(60_000);

  it("init runs with --skip-token-print --skip-certificate-key-print, so its output carries neither", () => {
    const s = sandbox();
    for (const tool of ["apt-get", "apt-mark", "gpg", "containerd", "curl", "kubectl"]) fakeBin(s.bin, tool);
    // Prints what the real kubeadm init prints at its end unless the flags say not to.
    fakeBin(
      s.bin,
      "kubeadm",
      `if [[ "$1 $2" == "init --config" ]]; then
  mkdir -p "${s.root}/etc/kubernetes" && echo admin > "${s.root}/etc/kubernetes/admin.conf"
  [[ " $* " == *" --skip-certificate-key-print "* ]] || echo "--certificate-key ${KEY}" >&2
  [[ " $* " == *" --skip-token-print "* ]] || echo "kubeadm join x:6443 --token ${TOKEN}" >&2
fi`,
    );
    const r = s.run("kubeadm", ["init"], {
      VERSION: "v1.34.9",
      CONFIG: "kind: InitConfiguration",
      CNI_MANIFEST: "https://example.invalid/f.yml",
      ENCRYPTION_CONFIG: "kind: EncryptionConfiguration",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stderr.includes(TOKEN) && !r.stderr.includes(KEY), r.stderr);
  });

  it("the bootstrap token of kubeadm init lives 15 minutes", async () => {
    const r = await runOk("boot", { ...MINIMAL_CONFIG, distribution: "kubeadm" });
    const docs = parseAllDocuments(decodeSettings(cmd(r, "server-1-install").inputs.stdin).CONFIG).map((d) => d.toJS());
    const init = docs.find((d) => d.kind === "InitConfiguration");
    assert.deepEqual(
      init.bootstrapTokens.map((t: { ttl: string }) => t.ttl),
      ["15m0s"],
    );
    assert.equal(init.bootstrapTokens[0].token, undefined, "kubeadm generates the value");
    // Every command whose output is secret is unlogged.
    for (const c of ofType(r, "command:remote:Command").filter((x) => x.additionalSecretOutputs.includes("stdout"))) {
      assert.equal(c.inputs.logging, "none", c.name);
    }
    assert.ok(KUBEADM.joinMaterialCommand);
  });
});
