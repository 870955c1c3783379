/**
 * Every kubeadm configuration the program registers (the install commands' CONFIG setting, under
 * the mock runtime) passes kubeadm's own validator: `kubeadm config validate` of v1.34.4, built
 * from the k8s.io/kubernetes Go module by tools/kube/build.sh. It decodes each document against
 * kubeadm's v1beta4 types and the component configs (KubeletConfiguration), refusing unknown
 * fields and invalid values (cmd/kubeadm/app/cmd/config.go, newCmdConfigValidate), so a field
 * name the program gets wrong fails here, not on a real host.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, ofType, ROOT, runProgram, stackConfigFrom } from "../../scripts/mock-program";
import { missing, tempDir } from "../tools";

const KUBEADM = path.join(ROOT, "tools", "kube", "bin", "kubeadm");

const SHAPES: Record<string, () => Record<string, unknown>> = {
  "one server and an agent (Oracle)": () => ({
    ...MINIMAL_CONFIG,
    distribution: "kubeadm",
    nodes: [
      { name: "server-1", role: "server", ocpus: 1 },
      { name: "agent-1", role: "agent", ocpus: 1 },
    ],
  }),
  "three servers (Oracle, payg)": () => ({
    ...MINIMAL_CONFIG,
    distribution: "kubeadm",
    tier: "payg",
    acceptCharges: true,
    budgetAmount: 50,
    nodes: [
      { name: "server-1", role: "server", ocpus: 2, memoryGb: 8 },
      { name: "server-2", role: "server", ocpus: 1, memoryGb: 8 },
      { name: "server-3", role: "server", ocpus: 1, memoryGb: 8 },
    ],
  }),
  // cgroupDriver cgroupfs and each node's --cgroup-root (kubeletExtraArgs) pass kubeadm's validator.
  "container hosts (examples/hosts/Pulumi.vps-kubeadm.yaml, containerHosts)": () => ({
    ...stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.vps-kubeadm.yaml")),
    "oci-k8s:containerHosts": true,
  }),
  ...Object.fromEntries(
    fs
      .readdirSync(path.join(ROOT, "examples", "hosts"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => [`examples/hosts/${f}`, () => stackConfigFrom(path.join(ROOT, "examples", "hosts", f))]),
  ),
};

describe("kubeadm's own validator accepts every registered kubeadm configuration", function () {
  this.timeout(120_000);
  before(function () {
    if (!fs.existsSync(KUBEADM)) missing(this, "tools/kube/bin/kubeadm", "run tools/kube/build.sh");
  });

  let validated = 0;
  for (const [shape, config] of Object.entries(SHAPES)) {
    it(shape, async () => {
      const stack = config();
      const r = await runProgram("kubeadm-validate", stack);
      if (r.error) throw r.error;
      const configs = ofType(r, "command:remote:Command")
        .filter((c) => c.name.endsWith("-install"))
        .map((c) => ({ name: c.name, settings: decodeSettings(String(c.inputs.stdin ?? "")) }))
        .filter((c) => c.settings.CONFIG && /kubeadm\.k8s\.io\//.test(c.settings.CONFIG));
      const kubeadmStack = (stack.distribution ?? stack["oci-k8s:distribution"]) === "kubeadm";
      if (!kubeadmStack) return assert.equal(configs.length, 0);
      assert.ok(configs.length >= 1, "no kubeadm install registered");
      const dir = tempDir("kubeadm-validate");
      for (const c of configs) {
        const file = path.join(dir, `${c.name}.yaml`);
        fs.writeFileSync(file, c.settings.CONFIG);
        const v = spawnSync(KUBEADM, ["config", "validate", "--config", file], { encoding: "utf8" });
        assert.equal(v.status, 0, `${c.name}: kubeadm config validate refused it:\n${v.stdout}${v.stderr}\n${c.settings.CONFIG}`);
        validated++;
      }
    });
  }

  it("a replaced first server's rejoin JoinConfiguration (examples/hosts/Pulumi.onprem-ha.yaml, the cluster living on)", async () => {
    const stack = stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.onprem-ha.yaml"));
    const r = await runProgram("kubeadm-validate", stack, { firstServerReplaced: true });
    if (r.error) throw r.error;
    const install = ofType(r, "command:remote:Command").find((c) => c.name === "cp-1-install")!;
    const rejoin = decodeSettings(String(install.inputs.stdin)).REJOIN_CONFIG;
    assert.match(rejoin, /kind: JoinConfiguration/);
    const file = path.join(tempDir("kubeadm-validate"), "rejoin.yaml");
    fs.writeFileSync(file, rejoin);
    const v = spawnSync(KUBEADM, ["config", "validate", "--config", file], { encoding: "utf8" });
    assert.equal(v.status, 0, `kubeadm config validate refused it:\n${v.stdout}${v.stderr}\n${rejoin}`);
    validated++;
  });

  it("refuses a configuration with a misspelt field (the validator is strict)", function () {
    const dir = tempDir("kubeadm-validate");
    const file = path.join(dir, "bad.yaml");
    fs.writeFileSync(
      file,
      "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.34.4\ncontrolPlaneEndPoint: 10.0.0.1:6443\n",
    );
    const v = spawnSync(KUBEADM, ["config", "validate", "--config", file], { encoding: "utf8" });
    assert.notEqual(v.status, 0);
    assert.match(v.stdout + v.stderr, /controlPlaneEndPoint/);
  });

  after(() => assert.ok(validated === 0 || validated >= 4, `only ${validated} kubeadm configs validated`));
});
