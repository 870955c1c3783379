/** Tenancy and budget: where the resources go and what the tenancy may be billed for. */
import { z } from "zod";
import { TIERS } from "../infra/allowance";
import { allowed, Bad, bool, str, Values } from "./keys";

export const TENANCY_KEYS = {
  compartmentId: str(
    z
      .string()
      .regex(
        /^(ocid1\.(compartment|tenancy)\.oc\d+\.\.[a-z0-9]+)?$/,
        "must be a compartment or tenancy OCID (ocid1.compartment.oc1..<id>)",
      )
      .default(""),
    "OCID of the compartment that holds every resource (the tenancy OCID for the root compartment); required unless the stack lists hosts.",
  ),
  tier: str(
    z.enum(TIERS, { error: allowed(TIERS) }).default("always-free"),
    "Tenancy type: always-free (nothing beyond the free allowance can exist) or payg (the same free allowance, 2 OCPU / 12 GB A1; beyond it is billed, and NAT gateways exist).",
  ),
  acceptCharges: bool(
    false,
    "payg only: turn a plan billed beyond the free allowance from an error into a warning that states the monthly cost.",
  ),
  budgetSharedWith: str(
    z
      .string()
      .regex(/^([\w.-]+\/[\w.-]+\/[\w.-]+|[\w.-]+)?$/, "must be a stack name like organization/oci-k8s/prd, or empty")
      .default(""),
    "Another stack in the same tenancy (e.g. organization/oci-k8s/prd) whose freeTierUsage counts against this stack's allowance.",
  ),
  oracleQuota: bool(
    true,
    "Create a compartment quota policy (Oracle enforces it, free) that caps A1 OCPUs and memory, micro instances and block storage in compartmentId at this stack's plan, and allows no flexible load balancer; false creates none (see docs/costs.md for the IAM policy it needs).",
  ),
  oracleBudget: bool(
    true,
    "Create a monthly budget (free) on compartmentId with an alert to alertEmail at the first cent of actual spend (payg with acceptCharges: at budgetAmount); false creates none. Oracle allows one budget per compartment.",
  ),
  alertEmail: str(
    z
      .string()
      .regex(/^([^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,})?$/, "must be one email address (name@example.com), or empty")
      .default(""),
    "Where the budget alert is sent; required while oracleBudget is on (an Oracle Cloud stack). A domain reserved for examples (RFC 2606: example.com, .test, ...) is refused by preview and up.",
  ),
  budgetAmount: {
    schema: z
      .int({ error: "must be a whole number" })
      .min(0, "must be 0 (not set) or more")
      .max(1_000_000, "must be at most 1000000")
      .default(0),
    type: "integer" as const,
    description:
      "payg with acceptCharges only: the monthly budget, a whole number in the tenancy's billing currency, that the alert fires at; required there (a stack that accepts charges sets its own cap).",
  },
};

export type TenancyValues = Values<typeof TENANCY_KEYS>;

export function checkTenancy(c: TenancyValues & { onHosts: boolean }, bad: Bad): void {
  if (!c.onHosts && !c.compartmentId) bad("compartmentId", undefined, "is required: the OCID of the compartment to build in");
  if (!c.onHosts) checkGuards(c, bad);
  if (c.tier === "always-free" && c.acceptCharges) {
    bad(
      "acceptCharges",
      true,
      "applies to payg tenancies only; an always-free tenancy cannot be billed and refuses what exceeds its limits",
    );
  }
}

/** The Oracle guards' keys: an email while the budget is on, and a cap exactly where charges are accepted. */
function checkGuards(c: TenancyValues, bad: Bad): void {
  if (c.oracleBudget && !c.alertEmail)
    bad(
      "alertEmail",
      undefined,
      "is required while oracleBudget is on: the address the budget alert goes to (set alertEmail: you@example.com, or oracleBudget: false to create no budget)",
    );
  if (!c.oracleBudget && c.alertEmail)
    bad("alertEmail", c.alertEmail, "means nothing with oracleBudget: false (no budget sends alerts); remove it");
  const capped = c.tier === "payg" && c.acceptCharges && c.oracleBudget;
  if (capped && c.budgetAmount === 0)
    bad(
      "budgetAmount",
      undefined,
      "is required with tier: payg and acceptCharges: true: the monthly amount (a whole number in the tenancy's billing currency) the budget alert fires at",
    );
  if (!capped && c.budgetAmount !== 0)
    bad(
      "budgetAmount",
      c.budgetAmount,
      "applies only with tier: payg, acceptCharges: true and oracleBudget on; any other stack's budget alerts at the first cent",
    );
}

export function resolveTenancy(c: TenancyValues) {
  return {
    compartmentId: c.compartmentId,
    tier: c.tier,
    acceptCharges: c.acceptCharges,
    budgetSharedWith: c.budgetSharedWith || undefined,
    guards: {
      quota: c.oracleQuota,
      budget: c.oracleBudget ? { alertEmail: c.alertEmail, amount: c.budgetAmount || undefined } : undefined,
    },
  };
}
