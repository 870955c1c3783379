import { PolicyPack } from "@pulumi/policy";
import { freeTierBudget, noWorldAdminPorts, pinnedChartVersions, policyConfigSchema, secretsStaySecret } from "./policies";

new PolicyPack("oci-k8s", {
  policies: [{ ...freeTierBudget, configSchema: policyConfigSchema }, noWorldAdminPorts, pinnedChartVersions, secretsStaySecret],
});
