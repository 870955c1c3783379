/**
 * What Oracle enforces for the stack (infra/guards.ts): the quota policy at the plan's figures and
 * the budget with its first-cent alert, both in the tenancy and aimed at the stack's compartment;
 * the keys that turn them off, the payg cap, and the refusals before anything is registered.
 */
import { strict as assert } from "assert";
import { ConfigError, parseConfig } from "../../config";
import {
  MINIMAL_CONFIG,
  MOCK_COMPARTMENT_NAME,
  MOCK_TENANCY,
  named,
  ofType,
  RunResult,
  runOk,
  runProgram,
  stackConfig,
} from "../../scripts/mock-program";
import { INSTANCE } from "./program.fixtures";

const QUOTA = "oci:Limits/quota:Quota";
const BUDGET = "oci:Budget/budget:Budget";
const ALERT = "oci:Budget/rule:Rule";

/** The figures a stack's own free-tier check counted (its freeTierUsage output), by resource. */
function usageOf(r: RunResult): Record<string, number> {
  const usage = r.outputs.freeTierUsage as { resource: string; used: number }[];
  return Object.fromEntries(usage.map((l) => [l.resource, l.used]));
}

/** The statements the plan's figures make, in the order the program writes them. */
function expectedStatements(u: Record<string, number>, scope: string): string[] {
  return [
    `set compute-core quota standard-a1-core-count to ${u.a1Ocpus} in ${scope}`,
    `set compute-core quota standard-a1-core-regional-count to ${u.a1Ocpus} in ${scope}`,
    `set compute-memory quota standard-a1-memory-count to ${u.a1MemoryGb} in ${scope}`,
    `set compute-memory quota standard-a1-memory-regional-count to ${u.a1MemoryGb} in ${scope}`,
    `set compute-core quota standard-e2-micro-core-count to ${u.microInstances} in ${scope}`,
    `set block-storage quota total-storage-gb to ${u.blockStorageGb} in ${scope}`,
    `zero load-balancer quotas in ${scope}`,
  ];
}

/** What parseConfig says of project keys (the provider's oci:region is read elsewhere). */
const refusal = (config: Record<string, unknown>): string => {
  const { "oci:region": _region, ...keys } = config;
  void _region;
  try {
    parseConfig(keys, "dev");
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  return "accepted";
};

describe("Oracle's own guards: the quota policy and the budget", function () {
  this.timeout(120_000);

  for (const [stack, figures] of [
    ["dev", { a1Ocpus: 2, a1MemoryGb: 12, microInstances: 2, blockStorageGb: 200 }],
    ["prd", { a1Ocpus: 2, a1MemoryGb: 12, microInstances: 2, blockStorageGb: 200 }],
  ] as const) {
    it(`${stack}: the quota lives in the tenancy and caps the compartment at the plan's figures`, async () => {
      const r = await runOk(stack, stackConfig(stack));
      const u = usageOf(r);
      for (const [k, v] of Object.entries(figures)) assert.equal(u[k], v, `${stack} plans ${v} of ${k}`);
      const quotas = ofType(r, QUOTA);
      assert.equal(quotas.length, 1);
      const quota = quotas[0];
      assert.equal(quota.inputs.compartmentId, MOCK_TENANCY, "a quota is created in the root compartment");
      assert.deepEqual(quota.inputs.statements, expectedStatements(u, `compartment ${MOCK_COMPARTMENT_NAME}`));
      assert.equal(quota.inputs.name, `oci-k8s-${stack}`, "named after the cluster, as its other resources are");
      // Every instance waits for the quota: a raised cap is in place before a node grows.
      for (const instance of ofType(r, INSTANCE))
        assert.ok(instance.dependencies.includes(quota.urn), `${instance.name} waits for the quota`);
    });
  }

  it("dev: a monthly budget in the tenancy on the compartment, alerting alertEmail at the first cent of actual spend", async () => {
    const config = stackConfig("dev");
    const r = await runOk("dev", config);
    const budget = named(r, BUDGET, "budget");
    assert.deepEqual(
      {
        compartmentId: budget.inputs.compartmentId,
        targetType: budget.inputs.targetType,
        targets: budget.inputs.targets,
        amount: budget.inputs.amount,
        resetPeriod: budget.inputs.resetPeriod,
      },
      {
        compartmentId: MOCK_TENANCY,
        targetType: "COMPARTMENT",
        targets: [config["oci-k8s:compartmentId"]],
        amount: 1,
        resetPeriod: "MONTHLY",
      },
    );
    const alert = named(r, ALERT, "budget-alert");
    assert.equal(alert.inputs.budgetId, "budget-id");
    assert.ok(alert.dependencies.includes(budget.urn));
    assert.deepEqual(
      [alert.inputs.type, alert.inputs.thresholdType, alert.inputs.threshold, alert.inputs.recipients],
      ["ACTUAL", "ABSOLUTE", 0.01, "ops@example.com"],
    );
  });

  it("names a nested compartment by its path from the root, and the root compartment as the tenancy", async () => {
    const child = "ocid1.compartment.oc1..aaaaaaaachild";
    const parent = "ocid1.compartment.oc1..aaaaaaaaparent";
    const nested = await runOk(
      "dev",
      { ...MINIMAL_CONFIG, compartmentId: child },
      {
        compartments: {
          [child]: { name: "dev", compartmentId: parent },
          [parent]: { name: "k8s", compartmentId: MOCK_TENANCY },
        },
      },
    );
    const statements = named(nested, QUOTA, "quota").inputs.statements as string[];
    assert.ok(
      statements.every((s) => s.endsWith(" in compartment k8s:dev")),
      statements.join("\n"),
    );
    assert.equal(named(nested, BUDGET, "budget").inputs.compartmentId, MOCK_TENANCY);
    assert.deepEqual(named(nested, BUDGET, "budget").inputs.targets, [child]);

    // The root compartment: no lookup (an empty map would refuse one), statements "in tenancy".
    const tenancy = "ocid1.tenancy.oc1..aaaaaaaaroot";
    const root = await runOk("dev", { ...MINIMAL_CONFIG, compartmentId: tenancy }, { compartments: {} });
    assert.ok((named(root, QUOTA, "quota").inputs.statements as string[]).every((s) => s.endsWith(" in tenancy")));
    assert.equal(named(root, QUOTA, "quota").inputs.compartmentId, tenancy);
    assert.deepEqual(named(root, BUDGET, "budget").inputs.targets, [tenancy]);
  });

  it("stops with the compartment named when its parents never reach a tenancy", async () => {
    const a = "ocid1.compartment.oc1..aaaaaaaaloopa";
    const b = "ocid1.compartment.oc1..aaaaaaaaloopb";
    const r = await runProgram(
      "dev",
      { ...MINIMAL_CONFIG, compartmentId: a },
      { compartments: { [a]: { name: "a", compartmentId: b }, [b]: { name: "b", compartmentId: a } } },
    );
    assert.match(String(r.error), new RegExp(`compartmentId ${a.replace(/\./g, "\\.")}: no tenancy found within 6 parents`));
    assert.equal(ofType(r, INSTANCE).length, 0, "no instance was registered");
  });

  it("oracleQuota: false and oracleBudget: false create neither, and the nodes still build", async () => {
    const noQuota = await runOk("dev", { ...MINIMAL_CONFIG, oracleQuota: false });
    assert.equal(ofType(noQuota, QUOTA).length, 0);
    assert.equal(ofType(noQuota, BUDGET).length, 1);
    const { alertEmail: _unused, ...withoutEmail } = MINIMAL_CONFIG;
    void _unused;
    const neither = await runOk("dev", { ...withoutEmail, oracleQuota: false, oracleBudget: false });
    assert.deepEqual(
      [QUOTA, BUDGET, ALERT].map((t) => ofType(neither, t).length),
      [0, 0, 0],
    );
    assert.ok(ofType(neither, INSTANCE).length > 0);
  });

  it("a payg stack that accepts charges: quota at its billed plan, the budget and its alert at its own budgetAmount", async () => {
    const nodes = [
      { name: "server-1", role: "server", ocpus: 2, memoryGb: 12 },
      { name: "agent-1", role: "agent", ocpus: 2, memoryGb: 12 },
    ];
    const r = await runOk("prd", { ...MINIMAL_CONFIG, tier: "payg", acceptCharges: true, budgetAmount: 40, nodes });
    const u = usageOf(r);
    assert.equal(u.a1Ocpus, 4);
    assert.deepEqual(named(r, QUOTA, "quota").inputs.statements, expectedStatements(u, `compartment ${MOCK_COMPARTMENT_NAME}`));
    assert.equal(named(r, BUDGET, "budget").inputs.amount, 40);
    const alert = named(r, ALERT, "budget-alert");
    assert.deepEqual([alert.inputs.thresholdType, alert.inputs.threshold], ["ABSOLUTE", 40]);
  });

  it("refuses a missing or malformed alertEmail and a misplaced budgetAmount, before anything is registered", async () => {
    const { alertEmail: _unused, ...withoutEmail } = MINIMAL_CONFIG;
    void _unused;
    const missing = await runProgram("dev", withoutEmail);
    assert.ok(missing.error instanceof ConfigError, String(missing.error));
    assert.equal(missing.resources.length, 0, "nothing was registered");
    assert.match(missing.error.message, /oci-k8s:alertEmail: \(not set\) is required while oracleBudget is on/);
    assert.match(missing.error.message, /oracleBudget: false to create no budget/);

    for (const bad of ["ops@example", "ops example.com", "a@example.com,b@example.com"])
      assert.match(
        refusal({ ...MINIMAL_CONFIG, alertEmail: bad }),
        new RegExp(`oci-k8s:alertEmail: ${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} must be one email address`),
      );
    assert.match(
      refusal({ ...MINIMAL_CONFIG, oracleBudget: false }),
      /oci-k8s:alertEmail: "ops@example.com" means nothing with oracleBudget: false/,
    );
    assert.match(
      refusal({ ...MINIMAL_CONFIG, tier: "payg", acceptCharges: true }),
      /oci-k8s:budgetAmount: \(not set\) is required with tier: payg and acceptCharges: true/,
    );
    assert.match(refusal({ ...MINIMAL_CONFIG, budgetAmount: 5 }), /oci-k8s:budgetAmount: 5 applies only with tier: payg/);
    assert.match(
      refusal({ ...MINIMAL_CONFIG, tier: "payg", acceptCharges: true, budgetAmount: 2.5 }),
      /oci-k8s:budgetAmount: 2.5 must be a whole number/,
    );
  });
});
