/**
 * The free-tier budget: what a plan uses of each allowance line, and the verdict. Pure functions
 * over the validated config, so the check runs before any resource is registered.
 */
import { formatTable } from "../table";
import { ALLOWANCE, EGRESS_PRICE, monthlyCost, RESOURCE_KEYS, ResourceKey, Tier } from "./allowance";
import { InfraNode } from "./types";
import { A1_FLEX, E2_MICRO } from "./shapes";

/** What a plan asks for, in the terms of the allowance. */
export interface Plan {
  readonly tier: Tier;
  readonly nodes: readonly Pick<InfraNode, "shape" | "ocpus" | "memoryGb" | "bootVolumeGb" | "dataVolumeGb">[];
  readonly natGateway: boolean;
  readonly networkLoadBalancers: number;
  readonly flexibleLoadBalancers: number;
  readonly vcns: number;
}

export interface UsageLine {
  readonly resource: ResourceKey;
  readonly label: string;
  readonly unit: string;
  readonly used: number;
  readonly allowed: number;
  /** How far over the free allowance the plan goes; 0 when it fits. */
  readonly excess: number;
  /** What the excess costs a month at list prices, in US dollars (0 when free). */
  readonly monthlyCostUsd: number;
  /** Whether the plan asks for more than the tier lets exist at all (Oracle would refuse it). */
  readonly overLimit: boolean;
}

export function computeUsage(plan: Plan): UsageLine[] {
  const sum = (f: (n: Plan["nodes"][number]) => number) => plan.nodes.reduce((acc, n) => acc + f(n), 0);
  const a1 = (n: Plan["nodes"][number]) => n.shape === A1_FLEX;
  const used: Record<ResourceKey, number> = {
    a1Ocpus: sum((n) => (a1(n) ? n.ocpus : 0)),
    a1MemoryGb: sum((n) => (a1(n) ? n.memoryGb : 0)),
    microInstances: sum((n) => (n.shape === E2_MICRO ? 1 : 0)),
    blockStorageGb: sum((n) => n.bootVolumeGb + (n.dataVolumeGb ?? 0)),
    networkLoadBalancers: plan.networkLoadBalancers,
    flexibleLoadBalancers: plan.flexibleLoadBalancers,
    natGateways: plan.natGateway ? 1 : 0,
    vcns: plan.vcns,
  };
  return RESOURCE_KEYS.map((resource) => usageLine(plan.tier, resource, used[resource]));
}

function usageLine(tier: Tier, resource: ResourceKey, used: number): UsageLine {
  const line = ALLOWANCE[resource];
  const allowed = line.free[tier];
  return {
    resource,
    label: line.label,
    unit: line.unit,
    used,
    allowed,
    excess: Math.max(0, used - allowed),
    monthlyCostUsd: monthlyCost(line, tier, used),
    overLimit: used > line.limit[tier],
  };
}

/** The whole plan's monthly cost beyond the free part, in US dollars. */
export function totalMonthlyCost(usage: readonly UsageLine[]): number {
  return Math.round(usage.reduce((sum, l) => sum + l.monthlyCostUsd, 0) * 100) / 100;
}

export const usd = (amount: number) => `$${amount.toFixed(2)}`;

/** Lines that stop a plan: billed beyond the free part, or beyond what the tenancy may have. */
export function overBudget(usage: readonly UsageLine[]): UsageLine[] {
  return usage.filter((line) => line.overLimit || line.monthlyCostUsd > 0);
}

/** A fixed-width table of every line: used, free, excess and its monthly cost, then the prices' sources. */
export function formatUsageTable(usage: readonly UsageLine[]): string {
  const rows = [
    ["resource", "used", "free", "excess", "cost/month"],
    ...usage.map((l) => [
      l.label,
      withUnit(l.used, l.unit),
      withUnit(l.allowed, l.unit),
      l.excess > 0 ? withUnit(l.excess, l.unit) : "-",
      l.overLimit ? "not possible" : usd(l.monthlyCostUsd),
    ]),
    ["total", "", "", "", usd(totalMonthlyCost(usage))],
  ];
  const priced = usage.filter((l) => l.monthlyCostUsd > 0).map((l) => `  ${l.label}: ${ALLOWANCE[l.resource].price!.source}`);
  const notes = [
    ...(priced.length > 0 ? ["Prices (list, US dollars, a 744-hour month):", ...priced] : []),
    `Not estimated: outbound data beyond 10 TB a month (${EGRESS_PRICE.source}).`,
  ];
  return [formatTable(rows), ...notes].join("\n");
}

function withUnit(value: number, unit: string): string {
  return unit ? `${value} ${unit}` : String(value);
}

/** One indented line per overrun: what exceeds, and what it costs a month or that it cannot exist. */
function overrunLines(usage: readonly UsageLine[], tier: Tier): string[] {
  return overBudget(usage).map((l) => {
    const over = `  ${l.label}: ${withUnit(l.excess, l.unit)} over the free ${withUnit(l.allowed, l.unit)}`;
    return l.overLimit ? `${over}, which a ${tier} tenancy cannot have` : `${over}, ${usd(l.monthlyCostUsd)} a month`;
  });
}

export class BudgetError extends Error {
  constructor(
    readonly tier: Tier,
    readonly usage: readonly UsageLine[],
  ) {
    const impossible = usage.some((l) => l.overLimit);
    super(
      [
        impossible
          ? `This plan asks for more than a ${tier} tenancy can have; nothing was created.`
          : `This plan would be billed about ${usd(totalMonthlyCost(usage))} a month beyond the free allowance; nothing was created.`,
        ...overrunLines(usage, tier),
        formatUsageTable(usage),
        impossible
          ? tier === "payg"
            ? "Shrink the nodes or volumes: Oracle refuses what exceeds these limits."
            : "An always-free tenancy refuses what exceeds its limits: shrink the nodes or volumes."
          : "Shrink the nodes or volumes, or set acceptCharges: true to be billed for the excess.",
      ].join("\n"),
    );
    this.name = "BudgetError";
  }
}

export interface BudgetVerdict {
  readonly usage: UsageLine[];
  /** Set when the plan is over the allowance but the stack accepts charges. */
  readonly warning?: string;
}

/** Refuses a plan over the allowance unless charges are accepted, in which case it warns. */
export function checkBudget(plan: Plan, acceptCharges: boolean): BudgetVerdict {
  return checkUsage(plan.tier, computeUsage(plan), acceptCharges);
}

/** What two stacks of one tenancy use together, against this stack's allowance (the same allowance for every tier). */
export function combineUsage(
  tier: Tier,
  own: readonly UsageLine[],
  other: readonly { resource: string; used: number }[],
): UsageLine[] {
  return own.map((line) =>
    usageLine(tier, line.resource, line.used + (other.find((o) => o.resource === line.resource)?.used ?? 0)),
  );
}

/**
 * The verdict on a usage table: fine ($0), a warning with the monthly figure (payg with charges
 * accepted), or a BudgetError naming each overrun and its monthly cost.
 */
export function checkUsage(tier: Tier, usage: UsageLine[], acceptCharges: boolean): BudgetVerdict {
  if (overBudget(usage).length === 0) return { usage };
  if (!acceptCharges || tier === "always-free" || usage.some((l) => l.overLimit)) throw new BudgetError(tier, usage);
  return {
    usage,
    warning: [
      `This plan is billed about ${usd(totalMonthlyCost(usage))} a month beyond the free allowance (acceptCharges: true):`,
      ...overrunLines(usage, tier),
      formatUsageTable(usage),
    ].join("\n"),
  };
}
