/**
 * oci-k8s: a Kubernetes cluster on Oracle Cloud's free allowance, one stack per environment.
 *
 *   Pulumi.<stack>.yaml ─► config (validated) ─► budget check ─► infra/ (OCI) ─► stack outputs
 *
 * Nothing is registered until the config and the budget have both passed.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkBudget, formatUsageTable } from "./infra/budget";
import { loadConfig } from "./infra/config";
import { createInfrastructure, freeTierPlan } from "./infra";
import { API_PORT } from "./infra/ports";
import { nodeLabels, nodeTaints, formatTaint } from "./k8s/labels";

export = async () => {
  const config = loadConfig();
  const budget = checkBudget(freeTierPlan(config), config.acceptCharges);
  if (budget.warning) pulumi.log.warn(budget.warning);
  else pulumi.log.info(`Free-tier usage (${config.tier}):\n${formatUsageTable(budget.usage)}`);

  const infra = createInfrastructure(config);
  const ingressIp = infra.ingress.publicIp;

  return {
    clusterName: config.clusterName,
    clusterDomain: config.clusterDomain ? pulumi.output(config.clusterDomain) : pulumi.interpolate`${ingressIp}.sslip.io`,
    distribution: config.distribution,
    ingressPublicIp: ingressIp,
    apiEndpoint: pulumi.interpolate`https://${ingressIp}:${API_PORT}`,
    vcnId: infra.network.vcnId,
    subnetIds: { public: infra.network.publicSubnetId, private: infra.network.privateSubnetId },
    nsgIds: infra.network.nsgIds,
    sshUser: infra.sshUser,
    sshPublicKey: infra.sshPublicKey,
    ...(infra.sshPrivateKey ? { sshPrivateKey: infra.sshPrivateKey } : {}),
    nodes: infra.nodes.map(({ spec, node }) => ({
      name: spec.name,
      role: spec.role,
      arch: spec.arch,
      shape: spec.shape,
      ocpus: spec.ocpus,
      memoryGb: spec.memoryGb,
      availabilityDomain: node.availabilityDomain,
      privateIp: node.privateIp,
      publicIp: node.publicIp,
      labels: nodeLabels(spec),
      taints: nodeTaints(spec).map(formatTaint),
    })),
    freeTierUsage: budget.usage,
  };
};
