import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { ALLOWANCE, HOURS_PER_MONTH, RESOURCE_KEYS, Tier } from "../../infra/allowance";
import {
  BudgetError,
  checkBudget,
  combineUsage,
  computeUsage,
  formatUsageTable,
  overBudget,
  Plan,
  totalMonthlyCost,
} from "../../infra/budget";
import { parseConfig } from "../../config";
import { freeTierPlan } from "../../infra";
import { A1_FLEX, E2_MICRO } from "../../infra/shapes";
import { ROOT, stackConfig } from "../../scripts/mock-program";

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
  it("both stack files plan at $0 on an always-free and on a payg tenancy", () => {
    for (const stack of ["dev", "prd"]) {
      for (const tier of ["always-free", "payg"] as const) {
        const p = { ...fromStack(stack), tier, natGateway: tier === "payg" && fromStack(stack).natGateway };
        const usage = computeUsage(p);
        assert.deepEqual(overBudget(usage), [], `${stack} on ${tier} is over:\n${formatUsageTable(usage)}`);
        assert.equal(totalMonthlyCost(usage), 0);
      }
    }
  });

  it("gives every tenancy the same free A1: 1,500 OCPU-hours and 9,000 GB-hours a month", () => {
    for (const tier of ["always-free", "payg"] as const) {
      assert.equal(ALLOWANCE.a1Ocpus.free[tier], 2);
      assert.equal(ALLOWANCE.a1MemoryGb.free[tier], 12);
    }
    assert.ok(2 * HOURS_PER_MONTH <= ALLOWANCE.a1Ocpus.price!.freeUnitHours!);
    assert.ok(3 * HOURS_PER_MONTH > ALLOWANCE.a1Ocpus.price!.freeUnitHours!);
    assert.ok(12 * HOURS_PER_MONTH <= ALLOWANCE.a1MemoryGb.price!.freeUnitHours!);
    for (const key of RESOURCE_KEYS) assert.ok(ALLOWANCE[key].source.length > 20, `${key} names no source`);
  });

  it("prices the old prd shape (3 A1 servers, 4 OCPU / 24 GB) on payg at about $28 a month, and refuses it", () => {
    const p: Plan = {
      tier: "payg",
      nodes: [
        { shape: A1_FLEX, ocpus: 2, memoryGb: 8, bootVolumeGb: 50 },
        { shape: A1_FLEX, ocpus: 1, memoryGb: 8, bootVolumeGb: 50 },
        { shape: A1_FLEX, ocpus: 1, memoryGb: 8, bootVolumeGb: 50 },
        { shape: E2_MICRO, ocpus: 0.125, memoryGb: 1, bootVolumeGb: 50 },
      ],
      natGateway: true,
      networkLoadBalancers: 1,
      flexibleLoadBalancers: 0,
      vcns: 1,
    };
    const usage = computeUsage(p);
    // (4 x 744 - 1,500) OCPU-h x $0.01 + (24 x 744 - 9,000) GB-h x $0.0015
    assert.equal(totalMonthlyCost(usage), 14.76 + 13.28);
    assert.throws(
      () => checkBudget(p, false),
      /billed about \$28\.04 a month[\s\S]*Ampere A1 OCPUs: 2 OCPU over the free 2 OCPU, \$14\.76 a month/,
    );
    const verdict = checkBudget(p, true);
    assert.match(verdict.warning!, /billed about \$28\.04 a month/);
    assert.throws(() => checkBudget({ ...p, tier: "always-free" }, true), /more than a always-free tenancy can have/);
  });

  it("README's cost figures are the program's, to the cent", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const a1 = (ocpus: number, memoryGb: number) => ({ shape: A1_FLEX, ocpus, memoryGb, bootVolumeGb: 50 });
    const kubeadmHa: Plan = {
      tier: "payg",
      nodes: [a1(1, 6), a1(1, 6), a1(1, 6)],
      natGateway: true,
      networkLoadBalancers: 1,
      flexibleLoadBalancers: 0,
      vcns: 1,
    };
    const usage = computeUsage(kubeadmHa);
    const ocpu = usage.find((l) => l.resource === "a1Ocpus")!.monthlyCostUsd;
    const memory = usage.find((l) => l.resource === "a1MemoryGb")!.monthlyCostUsd;
    assert.ok(readme.includes(`$${ocpu.toFixed(2)} + $${memory.toFixed(2)} = $${totalMonthlyCost(usage).toFixed(2)} a month`));
    for (const stack of ["dev", "prd"]) assert.equal(totalMonthlyCost(computeUsage(fromStack(stack))), 0);
    assert.match(readme, /\| `dev` \(always-free\) \|[^\n]*\| \$0\.00 \|/);
    assert.match(readme, /\| `prd` \(payg, NAT\) \|[^\n]*\| \$0\.00 \|/);
  });

  it("costs nothing exactly when every figure is within the free allowance, on both tiers (property)", () => {
    fc.assert(
      fc.property(plan, (p) => {
        const usage = computeUsage(p);
        const within = usage.every((l) => l.used <= l.allowed);
        const billed = usage.some((l) => l.excess > 0 && ALLOWANCE[l.resource].price !== undefined);
        assert.equal(totalMonthlyCost(usage) > 0, billed);
        if (within) assert.equal(totalMonthlyCost(usage), 0);
        for (const l of usage) {
          if (l.excess > 0 && ALLOWANCE[l.resource].price) assert.ok(l.monthlyCostUsd > 0, `${l.label} over but free`);
          if (l.excess === 0) assert.equal(l.monthlyCostUsd, 0);
        }
        if (totalMonthlyCost(usage) > 0) {
          const table = formatUsageTable(usage);
          for (const l of usage.filter((x) => x.monthlyCostUsd > 0))
            assert.ok(table.includes(ALLOWANCE[l.resource].price!.source));
        }
      }),
    );
  });

  it("a shared budget counts both stacks against the one allowance", () => {
    const own = computeUsage({ ...fromStack("dev") });
    const both = combineUsage("always-free", own, own);
    assert.equal(both.find((l) => l.resource === "a1Ocpus")!.used, 4);
    assert.ok(overBudget(both).length > 0);
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
          const impossible = computeUsage(p).some((l) => l.overLimit);
          if (impossible) assert.throws(() => checkBudget(p, true), BudgetError);
          else assert.equal(checkBudget(p, true).warning !== undefined, over);
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

  it("prints used, free, excess and monthly cost per line, aligned", () => {
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
    const lines = table.split("\n").filter((l) => !/^(Prices| {2}|Not estimated)/.test(l));
    assert.match(lines[0], /^resource\s+used\s+free\s+excess\s+cost\/month$/);
    assert.match(table, /Ampere A1 OCPUs\s+3 OCPU\s+2 OCPU\s+1 OCPU\s+not possible/);
    assert.match(table, /Ampere A1 memory\s+18 GB\s+12 GB\s+6 GB\s+not possible/);
    assert.equal(new Set(lines.map((l) => l.length)).size, 1, "rows are not aligned");
  });
});
