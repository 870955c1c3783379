import { strict as assert } from "assert";
import fc from "fast-check";
import { ALLOWANCE, RESOURCE_KEYS, Tier } from "../infra/allowance";
import { BudgetError, checkBudget, computeUsage, formatUsageTable, overBudget, Plan } from "../infra/budget";
import { parseConfig } from "../infra/config";
import { freeTierPlan } from "../infra";
import { A1_FLEX, E2_MICRO } from "../infra/shapes";
import { stackConfig } from "./harness";

const a1Node = fc.record({
  shape: fc.constant(A1_FLEX),
  ocpus: fc.integer({ min: 1, max: 8 }),
  memoryGb: fc.integer({ min: 1, max: 64 }),
  bootVolumeGb: fc.integer({ min: 50, max: 200 }),
  dataVolumeGb: fc.option(fc.integer({ min: 50, max: 200 }), { nil: undefined }),
});
const microNode = fc.record({
  shape: fc.constant(E2_MICRO),
  ocpus: fc.constant(0.125),
  memoryGb: fc.constant(1),
  bootVolumeGb: fc.integer({ min: 50, max: 100 }),
  dataVolumeGb: fc.option(fc.integer({ min: 50, max: 100 }), { nil: undefined }),
});
const plan: fc.Arbitrary<Plan> = fc.record({
  tier: fc.constantFrom<Tier>("always-free", "payg"),
  nodes: fc.array(fc.oneof(a1Node, microNode), { minLength: 1, maxLength: 6 }),
  natGateway: fc.boolean(),
  networkLoadBalancers: fc.integer({ min: 0, max: 2 }),
  flexibleLoadBalancers: fc.integer({ min: 0, max: 2 }),
  vcns: fc.integer({ min: 1, max: 3 }),
});

const fromStack = (stack: string) => {
  const raw = Object.fromEntries(
    Object.entries(stackConfig(stack))
      .filter(([k]) => k.startsWith("oci-k8s:"))
      .map(([k, v]) => [k.slice("oci-k8s:".length), v]),
  );
  return freeTierPlan(parseConfig(raw, stack));
};

describe("budget", () => {
  it("both stack files fit their tier's allowance at zero excess", () => {
    for (const stack of ["dev", "prd"]) {
      const usage = computeUsage(fromStack(stack));
      assert.deepEqual(overBudget(usage), [], `${stack} is over:\n${formatUsageTable(usage)}`);
    }
  });

  it("counts each allowance line from the plan (property)", () => {
    fc.assert(
      fc.property(plan, (p) => {
        const usage = Object.fromEntries(computeUsage(p).map((l) => [l.resource, l]));
        const a1 = p.nodes.filter((n) => n.shape === A1_FLEX);
        assert.equal(
          usage.a1Ocpus.used,
          a1.reduce((s, n) => s + n.ocpus, 0),
        );
        assert.equal(
          usage.a1MemoryGb.used,
          a1.reduce((s, n) => s + n.memoryGb, 0),
        );
        assert.equal(usage.microInstances.used, p.nodes.length - a1.length);
        assert.equal(
          usage.blockStorageGb.used,
          p.nodes.reduce((s, n) => s + n.bootVolumeGb + (n.dataVolumeGb ?? 0), 0),
        );
        assert.equal(usage.natGateways.used, p.natGateway ? 1 : 0);
        for (const key of RESOURCE_KEYS) {
          const line = usage[key];
          assert.equal(line.allowed, ALLOWANCE[key].free[p.tier]);
          assert.equal(line.excess, Math.max(0, line.used - line.allowed));
        }
      }),
    );
  });

  it("accepts a plan exactly when no line is over, and refuses it otherwise with the table (property)", () => {
    fc.assert(
      fc.property(plan, (p) => {
        const over = overBudget(computeUsage(p));
        try {
          const verdict = checkBudget(p, false);
          assert.equal(over.length, 0);
          assert.equal(verdict.warning, undefined);
        } catch (e) {
          assert.ok(e instanceof BudgetError);
          assert.ok(over.length > 0);
          for (const line of over) assert.ok(e.message.includes(line.label), `${line.label} missing from\n${e.message}`);
        }
      }),
    );
  });

  it("lets a payg stack that accepts charges through with a warning, never an always-free one (property)", () => {
    fc.assert(
      fc.property(plan, (p) => {
        const over = overBudget(computeUsage(p)).length > 0;
        if (p.tier === "payg") {
          const verdict = checkBudget(p, true);
          assert.equal(verdict.warning !== undefined, over);
        } else {
          assert.equal(
            (() => {
              try {
                checkBudget(p, true);
                return false;
              } catch {
                return true;
              }
            })(),
            over,
          );
        }
      }),
    );
  });

  it("never uses less of anything when a node is added (property)", () => {
    fc.assert(
      fc.property(plan, fc.oneof(a1Node, microNode), (p, extra) => {
        const before = computeUsage(p);
        const after = computeUsage({ ...p, nodes: [...p.nodes, extra] });
        before.forEach((line, i) => assert.ok(after[i].used >= line.used));
      }),
    );
  });

  it("prints used, allowed and excess per line, aligned", () => {
    const table = formatUsageTable(
      computeUsage({
        tier: "always-free",
        nodes: [{ shape: A1_FLEX, ocpus: 3, memoryGb: 18, bootVolumeGb: 50 }],
        natGateway: false,
        networkLoadBalancers: 1,
        flexibleLoadBalancers: 0,
        vcns: 1,
      }),
    );
    const lines = table.split("\n");
    assert.match(lines[0], /^resource\s+used\s+allowed\s+excess$/);
    assert.match(table, /Ampere A1 OCPUs\s+3 OCPU\s+2 OCPU\s+1 OCPU/);
    assert.match(table, /Ampere A1 memory\s+18 GB\s+12 GB\s+6 GB/);
    assert.equal(new Set(lines.map((l) => l.length)).size, 1, "rows are not aligned");
  });
});
