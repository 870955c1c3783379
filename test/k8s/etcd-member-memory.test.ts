/**
 * RKE2 runs etcd (512Mi requested) and kube-proxy (128Mi) as static pods on an etcd-only member
 * (rancher/rke2 v1.34.9+rke2r1 pkg/podtemplate/config.go, defaultResources): a 1 GB node cannot
 * admit them after its reservations, so the stack is refused with the reason before anything is
 * registered; a member large enough keeps its memory for pods, not for kube-reserved.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { parse } from "yaml";
import { reservations } from "../../k8s/bootstrap/reserved";
import { MINIMAL_CONFIG, ROOT, runOk, runProgram, stackConfig, stackConfigFrom } from "../../scripts/mock-program";
import { cmd, settingsOf } from "./bootstrap.fixtures";

const REFUSAL = /needs 2 GB or more with rke2: RKE2 runs etcd as a static pod \(512 MiB requested\)/;

describe("RKE2's etcd-only member and its memory", function () {
  this.timeout(60_000);

  it("Pulumi.prd.yaml with rke2 (the etcd member on a 1 GB micro): refused, naming the node, before anything is registered", async () => {
    const r = await runProgram("prd", { ...stackConfig("prd"), "oci-k8s:distribution": "rke2" });
    assert.ok(r.error, "accepted");
    assert.match(r.error.message, /nodes\[2\]\.role/);
    assert.match(r.error.message, REFUSAL);
    assert.match(r.error.message, /use k3s/);
    assert.deepEqual(
      r.resources.filter((x) => x.type !== "pulumi:pulumi:Stack").map((x) => x.type),
      [],
    );
  });

  it("existing hosts: an rke2 etcd host of 1 GB is refused the same way", async () => {
    const config = stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.cloud-rke2.yaml"));
    const hosts = config["oci-k8s:hosts"] as Record<string, unknown>[];
    const changed = hosts.map((h, i) => (i === 2 ? { ...h, role: "etcd", memoryGb: 1, ingress: false } : h));
    const r = await runProgram("bad", { ...config, "oci-k8s:hosts": changed });
    assert.ok(r.error, "accepted");
    assert.match(r.error.message, /hosts\[2\]\.role/);
    assert.match(r.error.message, REFUSAL);
  });

  it("k3s keeps the 1 GB etcd member (etcd runs inside its process), and an rke2 member of 4 GB leaves room for its static pods", async () => {
    await runOk("prd", stackConfig("prd"));
    const r = await runOk("boot", {
      ...MINIMAL_CONFIG,
      tier: "payg",
      acceptCharges: true,
      budgetAmount: 50,
      distribution: "rke2",
      nodes: [
        { name: "server-1", role: "server", ocpus: 1, memoryGb: 6 },
        { name: "server-2", role: "server", ocpus: 1, memoryGb: 6 },
        { name: "etcd-1", role: "etcd", ocpus: 1, memoryGb: 4 },
      ],
    });
    const kubelet: string[] = parse(settingsOf(cmd(r, "etcd-1-install")).CONFIG)["kubelet-arg"];
    const general = reservations(4);
    assert.ok(kubelet.includes(`kube-reserved=${general.kubeReserved}`), kubelet.join(" "));
    assert.ok(general.allocatableMiB >= 512 + 128 + 256, `${general.allocatableMiB} MiB for pods`);
  });
});
