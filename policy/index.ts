import { PolicyPack } from "@pulumi/policy";
import {
  freeTierBudget,
  noWorldAdminPorts,
  pinnedChartVersions,
  policyConfigSchema,
  quotaMatchesPlan,
  secretsStaySecret,
} from "./policies";

new PolicyPack("oci-k8s", {
  policies: [
    { ...freeTierBudget, configSchema: policyConfigSchema },
    quotaMatchesPlan,
    noWorldAdminPorts,
    pinnedChartVersions,
    secretsStaySecret,
  ],
});
