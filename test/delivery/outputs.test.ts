/** The outputs contract and the budget shared with another stack. */
import { strict as assert } from "assert";
import { CONTRACT_VERSION, OUTPUT_NAMES } from "../../outputs";
import * as path from "path";
import { MINIMAL_CONFIG, ROOT, runOk, runProgram, stackConfig, stackConfigFrom } from "../../scripts/mock-program";

describe("stack outputs contract", () => {
  it("every stack exports every output of the contract, with the kubeconfig secret", async () => {
    for (const stack of ["dev", "prd"]) {
      const r = await runOk(stack, stackConfig(stack));
      for (const name of OUTPUT_NAMES) assert.ok(r.outputs[name] !== undefined, `${stack} lacks ${name}`);
      assert.ok(r.secretOutputs.includes("kubeconfig"));
    }
  });
});

/**
 * The outputs of each contract version. A changed list without a new version here and in
 * outputs.ts fails, so a consumer never misreads outputs of another shape under the same number.
 */
const BEFORE_3 = [
  "clusterName",
  "clusterDomain",
  "distribution",
  "distributionVersion",
  "apiUrl",
  "kubeconfig",
  "ingressPublicIp",
  "vcnId",
  "subnetIds",
  "nsgIds",
  "sshUser",
  "sshPublicKey",
  "nodes",
  "storageClass",
  "clusterIssuers",
  "components",
];
const CONTRACT_SHAPES: Record<number, readonly string[]> = {
  2: [...BEFORE_3, "freeTierUsage"],
  3: [...BEFORE_3, "urls", "grafanaAdminPassword", "argoCdAdminPassword", "freeTierUsage"],
};

describe("stack outputs: the cluster's URLs, and the contract's version follows its shape", () => {
  it("the contract version names exactly the outputs the helper reads", () => {
    assert.deepEqual([...OUTPUT_NAMES], CONTRACT_SHAPES[CONTRACT_VERSION], `outputs changed under version ${CONTRACT_VERSION}`);
  });

  it("urls lists the API and each UI the enabled components expose, on the stack's domain", async () => {
    const dev = await runOk("dev", stackConfig("dev"));
    assert.deepEqual(dev.outputs.urls, {
      kubernetesApi: dev.outputs.apiUrl,
      argocd: "https://argocd.dev.example.com",
      grafana: "https://grafana.dev.example.com",
    });
    assert.ok(!dev.secretOutputs.includes("urls"));
    // With no clusterDomain, the sslip.io name of the ingress address; Dex when its addon is on.
    const connector = { type: "github", id: "github", name: "GitHub", config: { clientID: "$ID", clientSecret: "$SECRET" } };
    const dex = await runOk("dev", {
      ...MINIMAL_CONFIG,
      addons: ["dex"],
      componentValues: { dex: { config: { connectors: [connector] } } },
    });
    assert.deepEqual(Object.keys(dex.outputs.urls as object), ["kubernetesApi", "grafana", "argocd", "dex"]);
    assert.equal((dex.outputs.urls as Record<string, string>).dex, `https://dex.${dex.outputs.clusterDomain}`);
    assert.match(String(dex.outputs.clusterDomain), /\.sslip\.io$/);
  });
});

describe("outputs contract version, checked when a consumer reads the outputs", () => {
  const CLUSTER = "organization/oci-k8s/dev";
  const consume = async (outputs: Record<string, unknown>, secret: string[]) =>
    runProgram(
      "example",
      { clusterStack: CLUSTER },
      {
        program: path.join(ROOT, "examples", "web-app", "index.ts"),
        project: "oci-k8s-web-app",
        stackOutputs: { [CLUSTER]: outputs },
        stackSecretOutputs: { [CLUSTER]: secret },
      },
    );

  it("exports the version, and a consumer of the same version reads the outputs", async () => {
    const dev = await runOk("dev", stackConfig("dev"));
    assert.equal(dev.outputs.contractVersion, CONTRACT_VERSION);
    const r = await consume(dev.outputs, dev.secretOutputs);
    assert.equal(r.error, undefined);
  });

  it("a consumer refuses a stack of another contract version (or none), saying what to do", async () => {
    const dev = await runOk("dev", stackConfig("dev"));
    for (const version of [CONTRACT_VERSION - 1, undefined]) {
      const outputs = { ...dev.outputs, contractVersion: version };
      if (version === undefined) delete outputs.contractVersion;
      const r = await consume(outputs, dev.secretOutputs);
      assert.match(String(r.error?.message), /exports outputs contract version .* this program reads version \d+: run pulumi up/);
    }
  });
});

describe("budget shared with another stack", () => {
  const other = "organization/oci-k8s/prd";
  const usage = (a1Ocpus: number) => [
    { resource: "a1Ocpus", label: "Ampere A1 OCPUs", unit: "OCPU", used: a1Ocpus, allowed: 2, excess: 0 },
    { resource: "blockStorageGb", label: "Block storage (boot + data)", unit: "GB", used: 50, allowed: 200, excess: 0 },
  ];
  const config = {
    ...MINIMAL_CONFIG,
    budgetSharedWith: other,
    nodes: [{ name: "server-1", role: "server", ocpus: 1, memoryGb: 6 }],
  };

  it("builds when both stacks fit one tenancy together", async () => {
    const r = await runOk("dev", config, { stackOutputs: { [other]: { freeTierUsage: usage(1) } } });
    assert.ok(r.resources.some((x) => x.type === "oci:Core/instance:Instance"));
  });

  it("refuses, with the combined table and before creating anything, when both together exceed it", async () => {
    const r = await runProgram("dev", config, { stackOutputs: { [other]: { freeTierUsage: usage(2) } } });
    assert.ok(r.error);
    assert.match(r.error!.message, /Together with stack organization\/oci-k8s\/prd \(budgetSharedWith\)/);
    assert.match(r.error!.message, /Ampere A1 OCPUs +3 OCPU +2 OCPU +1 OCPU/);
    // It read the other stack and created nothing.
    assert.deepEqual(
      r.resources.map((x) => `${x.read ? "read" : "create"} ${x.type}`),
      ["read pulumi:pulumi:StackReference"],
    );
  });

  it("the shared pair in examples/stacks plans at $0 together on one payg tenancy", async () => {
    const shared = (name: string) => stackConfigFrom(path.join(ROOT, "examples", "stacks", `Pulumi.${name}.yaml`));
    const prd = await runOk("prd-shared", shared("prd-shared"));
    const dev = await runOk("dev-shared", shared("dev-shared"), {
      stackOutputs: { "organization/oci-k8s/prd-shared": { freeTierUsage: prd.outputs.freeTierUsage } },
    });
    for (const r of [prd, dev]) {
      for (const line of r.outputs.freeTierUsage as { monthlyCostUsd: number; excess: number }[]) {
        assert.equal(line.monthlyCostUsd, 0);
        assert.equal(line.excess, 0);
      }
    }
    const a1 = (r: typeof prd) =>
      (r.outputs.freeTierUsage as { resource: string; used: number }[]).find((l) => l.resource === "a1Ocpus")!.used;
    assert.equal(a1(prd) + a1(dev), 2);
  });

  it("says what to do when the other stack has no usage output yet", async () => {
    const r = await runProgram("dev", config, { stackOutputs: { [other]: {} } });
    assert.match(String(r.error?.message), /exports no freeTierUsage; run pulumi up there first/);
  });
});
