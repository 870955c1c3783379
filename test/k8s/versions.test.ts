/** Version changes a running cluster can take, checked against the stack's own previous outputs. */
import { strict as assert } from "assert";
import { refuseVersionChange } from "../../k8s/bootstrap/versions";
import { runOk, runProgram, stackConfig } from "../../scripts/mock-program";

const from = (version: string, distribution = "k3s") => ({ distribution, version });

describe("version changes", () => {
  it("allows patch releases and one minor version up", () => {
    for (const [old, next] of [
      ["v1.34.9+k3s1", "v1.34.9+k3s2"],
      ["v1.34.9+k3s1", "v1.34.12+k3s1"],
      ["v1.33.5+k3s1", "v1.34.9+k3s1"],
    ]) {
      assert.equal(refuseVersionChange({ distribution: "k3s", from: from(old), to: next }), undefined, `${old} -> ${next}`);
    }
  });

  it("refuses a skipped minor version, naming the step to take first", () => {
    assert.match(
      refuseVersionChange({ distribution: "kubeadm", from: from("v1.32.4", "kubeadm"), to: "v1.34.9" })!,
      /v1\.34\.9 skips a minor version from the running v1\.32\.4; upgrade to the newest v1\.33\.x release first/,
    );
  });

  it("refuses a downgrade and a switch of distribution", () => {
    assert.match(
      refuseVersionChange({ distribution: "k3s", from: from("v1.34.9+k3s1"), to: "v1.34.8+k3s1" })!,
      /older than the running/,
    );
    assert.match(
      refuseVersionChange({ distribution: "rke2", from: from("v1.34.9+k3s1"), to: "v1.34.9+rke2r1" })!,
      /runs k3s; switching a running cluster to rke2/,
    );
  });

  it("the program reads its own last outputs and stops before changing anything", async () => {
    const previous = (version: string) => ({
      stackOutputs: { "organization/oci-k8s/dev": { distribution: "k3s", distributionVersion: version } },
    });
    const refused = await runProgram("dev", stackConfig("dev"), previous("v1.32.9+k3s1"));
    assert.match(
      String(refused.error?.message),
      /skips a minor version from the running v1\.32\.9\+k3s1[\s\S]*Nothing was changed/,
    );
    assert.deepEqual(
      refused.resources.map((x) => (x.read ? "read" : "create")),
      ["read"],
    );
    const accepted = await runOk("dev", stackConfig("dev"), previous("v1.33.9+k3s1"));
    assert.ok(accepted.resources.some((x) => x.type === "oci:Core/instance:Instance"));
  });
});
