/**
 * The free-tier budget: what a plan uses of each allowance line, and the verdict. Pure functions
 * over the validated config, so the check runs before any resource is registered.
 */
import { formatTable } from "../table";
import { ALLOWANCE, RESOURCE_KEYS, ResourceKey, Tier } from "./allowance";
import { NodeSpec } from "./config";
import { A1_FLEX, E2_MICRO } from "./shapes";

/** What a plan asks for, in the terms of the allowance. */
export interface Plan {
  readonly tier: Tier;
  readonly nodes: readonly Pick<NodeSpec, "shape" | "ocpus" | "memoryGb" | "bootVolumeGb" | "dataVolumeGb">[];
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
  /** How far over the allowance the plan goes; 0 when it fits. */
  readonly excess: number;
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
  return RESOURCE_KEYS.map((resource) => {
    const line = ALLOWANCE[resource];
    const allowed = line.free[plan.tier];
    return {
      resource,
      label: line.label,
      unit: line.unit,
      used: used[resource],
      allowed,
      excess: Math.max(0, used[resource] - allowed),
    };
  });
}

export function overBudget(usage: readonly UsageLine[]): UsageLine[] {
  return usage.filter((line) => line.excess > 0);
}

/** A fixed-width table of every line: used, allowed, excess. */
export function formatUsageTable(usage: readonly UsageLine[]): string {
  const rows = [
    ["resource", "used", "allowed", "excess"],
    ...usage.map((l) => [
      l.label,
      withUnit(l.used, l.unit),
      withUnit(l.allowed, l.unit),
      l.excess > 0 ? withUnit(l.excess, l.unit) : "-",
    ]),
  ];
  return formatTable(rows);
}

function withUnit(value: number, unit: string): string {
  return unit ? `${value} ${unit}` : String(value);
}

export class BudgetError extends Error {
  constructor(
    readonly tier: Tier,
    readonly usage: readonly UsageLine[],
  ) {
    const over = overBudget(usage).map((l) => l.label.toLowerCase());
    super(
      [
        `This plan exceeds the ${tier} free allowance (${over.join(", ")}); nothing was created.`,
        formatUsageTable(usage),
        tier === "payg"
          ? "Shrink the nodes or volumes, or set acceptCharges: true to be billed for the excess."
          : "An always-free tenancy refuses what exceeds its limits: shrink the nodes or volumes.",
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

/** What two stacks of one tenancy use together, against this stack's allowance. */
export function combineUsage(own: readonly UsageLine[], other: readonly { resource: string; used: number }[]): UsageLine[] {
  return own.map((line) => {
    const used = line.used + (other.find((o) => o.resource === line.resource)?.used ?? 0);
    return { ...line, used, excess: Math.max(0, used - line.allowed) };
  });
}

/** The verdict on a usage table: fine, a warning (payg with charges accepted), or a BudgetError. */
export function checkUsage(tier: Tier, usage: UsageLine[], acceptCharges: boolean): BudgetVerdict {
  if (overBudget(usage).length === 0) return { usage };
  const error = new BudgetError(tier, usage);
  if (!acceptCharges || tier === "always-free") throw error;
  return {
    usage,
    warning: `${error.message.split("\n")[0].replace("; nothing was created.", "")}: charges accepted.\n${formatUsageTable(usage)}`,
  };
}
