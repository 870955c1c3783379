/**
 * oci-k8s: a Kubernetes cluster on Oracle Cloud's free allowance, one stack per environment.
 *
 *   Pulumi.<stack>.yaml ─► config (validated) ─► budget check
 *        ─► infra/ (Oracle Cloud: network, nodes, load balancer)
 *        ─► k8s/   (hosts ─► Cluster over SSH ─► kubernetes.Provider)
 *        ─► stack outputs
 *
 * Nothing is registered until the config and the budget have both passed.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkBudget, formatUsageTable } from "./infra/budget";
import { HOST_READY_MARKER } from "./infra/cloud-init";
import { loadConfig } from "./infra/config";
import { createInfrastructure, freeTierPlan } from "./infra";
import { Cluster } from "./k8s/bootstrap/cluster";
import { DISTRIBUTIONS } from "./k8s/bootstrap/distributions";
import { Host } from "./k8s/bootstrap/types";
import { formatTaint, nodeLabels, nodeTaints } from "./k8s/labels";
import { CLUSTER_PORTS } from "./k8s/ports";

export = async () => {
  const config = loadConfig();
  const budget = checkBudget(freeTierPlan(config), config.acceptCharges);
  if (budget.warning) pulumi.log.warn(budget.warning);
  else pulumi.log.info(`Free-tier usage (${config.tier}):\n${formatUsageTable(budget.usage)}`);

  const infra = createInfrastructure(config, CLUSTER_PORTS[config.distribution]);
  const ingressIp = infra.ingress.publicIp;

  // Private nodes are reached through the first public node.
  const jumpHost = infra.nodes.find((n) => n.spec.subnet === "public");
  const hosts: Host[] = infra.nodes.map(({ spec, node }) => ({
    name: spec.name,
    role: spec.role,
    arch: spec.arch,
    address: spec.subnet === "public" ? node.publicIp : node.privateIp,
    privateIp: node.privateIp,
    memoryGb: spec.memoryGb,
    labels: nodeLabels(spec),
    taints: nodeTaints(spec),
    machineId: node.instanceId,
    dependsOn: [node],
    viaBastion: spec.subnet === "private",
  }));
  const cluster = new Cluster("cluster", {
    clusterName: config.clusterName,
    distribution: DISTRIBUTIONS[config.distribution],
    version: config.distributionVersion,
    apiEndpoint: ingressIp,
    hosts,
    ssh: {
      user: infra.sshUser,
      privateKey: infra.sshPrivateKey,
      bastion: jumpHost?.node.publicIp,
    },
    readyMarker: HOST_READY_MARKER,
  });

  return {
    clusterName: config.clusterName,
    clusterDomain: config.clusterDomain ? pulumi.output(config.clusterDomain) : pulumi.interpolate`${ingressIp}.sslip.io`,
    distribution: config.distribution,
    distributionVersion: config.distributionVersion,
    apiUrl: cluster.apiUrl,
    kubeconfig: cluster.kubeconfig,
    ingressPublicIp: ingressIp,
    vcnId: infra.network.vcnId,
    subnetIds: { public: infra.network.publicSubnetId, private: infra.network.privateSubnetId },
    nsgIds: infra.network.nsgIds,
    sshUser: infra.sshUser,
    sshPublicKey: infra.sshPublicKey,
    ...(infra.sshKeyGenerated && infra.sshPrivateKey ? { sshPrivateKey: infra.sshPrivateKey } : {}),
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
