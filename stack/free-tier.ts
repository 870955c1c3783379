/** The free-tier check of a stack: its own usage, and with budgetSharedWith, the tenancy's other stack too. */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { freeTierPlan } from "../infra";
import { checkBudget, checkUsage, combineUsage, formatUsageTable, UsageLine } from "../infra/budget";
import type { UsageOutput } from "../outputs";

/** Refuses a stack over its allowance (or, with acceptCharges on payg, warns with the cost); returns its usage. */
export async function checkFreeTier(config: StackConfig): Promise<UsageLine[]> {
  const budget = checkBudget(freeTierPlan(config), config.acceptCharges);
  if (budget.warning) pulumi.log.warn(budget.warning);
  else pulumi.log.info(`Free-tier usage (${config.tier}):\n${formatUsageTable(budget.usage)}`);
  if (config.budgetSharedWith) await checkSharedBudget(config, config.budgetSharedWith, budget.usage);
  return budget.usage;
}

/** Another stack of the same tenancy: both together must fit this stack's allowance. */
async function checkSharedBudget(config: StackConfig, name: string, own: UsageLine[]): Promise<void> {
  const details = await new pulumi.StackReference(name, { name }).getOutputDetails("freeTierUsage");
  const other = (details.value ?? details.secretValue) as UsageOutput[] | undefined;
  if (!other)
    throw new Error(
      `budgetSharedWith: stack ${name} exports no freeTierUsage; run pulumi up there first, or clear budgetSharedWith`,
    );
  try {
    const shared = checkUsage(config.tier, combineUsage(config.tier, own, other), config.acceptCharges);
    pulumi.log.info(`Free-tier usage together with ${name}:\n${formatUsageTable(shared.usage)}`);
    if (shared.warning) pulumi.log.warn(shared.warning);
  } catch (error) {
    throw new Error(
      `Together with stack ${name} (budgetSharedWith), this tenancy would exceed its allowance.\n${(error as Error).message}`,
      { cause: error },
    );
  }
}
