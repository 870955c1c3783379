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
};

export type TenancyValues = Values<typeof TENANCY_KEYS>;

export function checkTenancy(c: TenancyValues & { onHosts: boolean }, bad: Bad): void {
  if (!c.onHosts && !c.compartmentId) bad("compartmentId", undefined, "is required: the OCID of the compartment to build in");
  if (c.tier === "always-free" && c.acceptCharges) {
    bad(
      "acceptCharges",
      true,
      "applies to payg tenancies only; an always-free tenancy cannot be billed and refuses what exceeds its limits",
    );
  }
}

export function resolveTenancy(c: TenancyValues) {
  return {
    compartmentId: c.compartmentId,
    tier: c.tier,
    acceptCharges: c.acceptCharges,
    budgetSharedWith: c.budgetSharedWith || undefined,
  };
}
