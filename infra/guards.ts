/**
 * What Oracle itself enforces, both free: a compartment quota policy that caps what the stack's
 * compartment may hold at the stack's plan (the figures infra/budget.ts counted and checked), and
 * a budget on the compartment whose alert fires at the first cent of actual spend.
 *
 * Both are tenancy-level resources: they live in the root compartment (compartmentId = the tenancy
 * OCID) and target the stack's compartment. Oracle: "the budget tracks spending in the specified
 * target compartment, but you need to have permissions to manage budgets in the root compartment
 * of the tenancy" (Billing, Budgets Overview); quota statements name their compartment by name or
 * path from the root, as in Oracle's Sample Quotas ("in compartment MyCompartment", "in tenancy").
 * The path is read from Oracle (GetCompartment, walking up to the tenancy) when the program runs.
 */
import * as oci from "@pulumi/oci";
import type { UsageLine } from "./budget";

/** Where the guards go and what they name: the tenancy they live in, and the statement's target. */
export interface QuotaTarget {
  /** OCID of the tenancy (the root compartment): where the quota and the budget are created. */
  readonly tenancyId: string;
  /** The statement's tail: `tenancy`, or `compartment <path from the root>` (e.g. `compartment k8s:dev`). */
  readonly scope: string;
}

/**
 * The quota statements that cap the compartment at the plan, one per quota, each name checked
 * against Oracle's own quota tables (docs.oracle.com/iaas/Content/Quotas/Concepts/):
 * - compute-core `standard-a1-core-count` ("Total number of OCPUs of VM.Standard.A1 and
 *   BM.Standard.A1 series shapes", scope: availability domain) and `standard-e2-micro-core-count`
 *   (VM.Standard.E2.1.Micro, availability domain): resourcequotas_topic-Compute_Quotas.htm.
 * - AD-scoped quotas apply to each AD ("setting a quota of 120 OCPUs on a compartment actually
 *   sets a limit of 120 OCPUs per AD", quota_policy_syntax.htm, Scope), so the region-wide A1 total
 *   is capped by the regional quotas too: compute-core `standard-a1-core-regional-count` and
 *   compute-memory `standard-a1-memory-count` / `standard-a1-memory-regional-count`. These three
 *   names are the ones Oracle's ListShapes returns for VM.Standard.A1.Flex (Shape.quotaNames); the
 *   compute-memory family and its table were not in the Oracle text read for this (only the
 *   compute-core table was), so the family name rests on published policies that apply it.
 * - block-storage `total-storage-gb` ("Maximum storage space of block and boot volumes, in GB",
 *   availability domain): resourcequotas_topic-Block_Volume_Quotas.htm.
 * - load-balancer (flexible load balancers; loadbalancing_quotas.htm): zero, the plan has none.
 * Network load balancers cost nothing on either tier (infra/allowance.ts) and are not capped.
 */
export function quotaStatements(usage: readonly UsageLine[], scope: string): string[] {
  const used = (resource: UsageLine["resource"]) => {
    const line = usage.find((l) => l.resource === resource);
    if (!line) throw new Error(`quotaStatements: the usage has no ${resource} line`);
    return line.used;
  };
  const set = (family: string, quota: string, value: number) => `set ${family} quota ${quota} to ${value} in ${scope}`;
  const a1Ocpus = used("a1Ocpus");
  const a1MemoryGb = used("a1MemoryGb");
  return [
    set("compute-core", "standard-a1-core-count", a1Ocpus),
    set("compute-core", "standard-a1-core-regional-count", a1Ocpus),
    set("compute-memory", "standard-a1-memory-count", a1MemoryGb),
    set("compute-memory", "standard-a1-memory-regional-count", a1MemoryGb),
    // One micro instance is one core of this quota (the shape has a fixed 1 OCPU).
    set("compute-core", "standard-e2-micro-core-count", used("microInstances")),
    set("block-storage", "total-storage-gb", used("blockStorageGb")),
    ...(used("flexibleLoadBalancers") === 0 ? [`zero load-balancer quotas in ${scope}`] : []),
  ];
}

/** The smallest alert Oracle's alert rule can express: an ABSOLUTE threshold has at most two decimals (budget/rule.d.ts). */
export const FIRST_CENT = 0.01;
/** The smallest budget: Oracle's amount is "a whole number in the currency of the customer's rate card" (budget/budget.d.ts). */
export const SMALLEST_BUDGET = 1;

const TENANCY_OCID = /^ocid1\.tenancy\./;
/** Oracle nests compartments at most six deep under the root; a longer walk is a loop. */
const MAX_DEPTH = 6;

/** Reads the compartment's path from the root, and the tenancy it belongs to, from Oracle. */
export async function quotaTarget(compartmentId: string): Promise<QuotaTarget> {
  if (TENANCY_OCID.test(compartmentId)) return { tenancyId: compartmentId, scope: "tenancy" };
  const names: string[] = [];
  let id = compartmentId;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const compartment = await oci.identity.getCompartment({ id });
    names.unshift(compartment.name);
    if (TENANCY_OCID.test(compartment.compartmentId))
      return { tenancyId: compartment.compartmentId, scope: `compartment ${names.join(":")}` };
    id = compartment.compartmentId;
  }
  throw new Error(`compartmentId ${compartmentId}: no tenancy found within ${MAX_DEPTH} parents`);
}

export interface GuardsArgs {
  readonly compartmentId: string;
  readonly clusterName: string;
  readonly stack: string;
  /** The plan's usage, as the free-tier check counted it. */
  readonly usage: readonly UsageLine[];
  /** Create the quota policy. */
  readonly quota: boolean;
  /** Create the budget: its alert's address, and the cap of a payg stack that accepts charges. */
  readonly budget?: { readonly alertEmail: string; readonly amount?: number };
  readonly tags: Record<string, string>;
}

export interface Guards {
  /** What every instance waits for, so a raised cap is in place before a node grows. */
  readonly quota?: oci.limits.Quota;
  readonly budget?: oci.budget.Budget;
  readonly alert?: oci.budget.Rule;
}

/** Names Oracle accepts for quotas and budgets: letters, digits, `-` and `_`, a letter first. */
const guardName = (args: GuardsArgs) => args.clusterName.replace(/[^A-Za-z0-9_-]/g, "-");

/** The quota policy and the budget with its alert, in the tenancy, on the stack's compartment. */
export async function createGuards(args: GuardsArgs): Promise<Guards> {
  if (!args.quota && !args.budget) return {};
  const target = await quotaTarget(args.compartmentId);
  const name = guardName(args);
  const quota = args.quota
    ? new oci.limits.Quota("quota", {
        compartmentId: target.tenancyId,
        name,
        description: `Caps ${target.scope} at what stack ${args.stack} plans (oci-k8s).`,
        statements: quotaStatements(args.usage, target.scope),
        freeformTags: args.tags,
      })
    : undefined;
  if (!args.budget) return { quota };
  const amount = args.budget.amount ?? SMALLEST_BUDGET;
  const budget = new oci.budget.Budget("budget", {
    compartmentId: target.tenancyId,
    displayName: name,
    description: `Spending in the compartment of stack ${args.stack} (oci-k8s).`,
    amount,
    resetPeriod: "MONTHLY",
    targetType: "COMPARTMENT",
    targets: [args.compartmentId],
    freeformTags: args.tags,
  });
  const alert = new oci.budget.Rule("budget-alert", {
    budgetId: budget.id,
    displayName: `${name}-spend`,
    description:
      args.budget.amount === undefined ? "Any actual spend: the stack plans $0." : "Actual spend reached the stack's budget.",
    type: "ACTUAL",
    thresholdType: "ABSOLUTE",
    threshold: args.budget.amount ?? FIRST_CENT,
    recipients: args.budget.alertEmail,
    message:
      args.budget.amount === undefined
        ? `Compartment ${args.compartmentId} (stack ${args.stack}) is being billed although the stack plans nothing beyond the free allowance. Look for resources created outside the stack.`
        : `Compartment ${args.compartmentId} (stack ${args.stack}) reached its monthly budget of ${amount}.`,
    freeformTags: args.tags,
  });
  return { quota, budget, alert };
}
