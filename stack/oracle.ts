/**
 * Oracle Cloud as the machines: the free-tier check, the network, the instances and the load
 * balancer (infra/), and the adapter that hands the instances to the bootstrap as plain hosts.
 */
import type { NodeSpec, StackConfig } from "../config";
import { createInfrastructure, freeTierPlan } from "../infra";
import { computeUsage, type UsageLine } from "../infra/budget";
import { createGuards } from "../infra/guards";
import { formatTaint } from "../k8s/labels";
import type { CatalogEntry } from "../k8s/platform/catalog";
import { checkFreeTier } from "./free-tier";
import type { CapacityNode, Machines } from "./machines";
import { clusterNeeds, ociHosts, ociNodeLabels, ociNodeTaints } from "./oci";
import { jumpHostOf, planUpdate } from "./update";

export const ORACLE_CLOUD = {
  /** Refuses a stack over the free allowance before anything is registered; returns its usage. */
  check: (config: StackConfig): Promise<UsageLine[]> => checkFreeTier(config),

  capacity: (config: StackConfig): CapacityNode[] =>
    config.nodes.map((n: NodeSpec) => ({
      role: n.role,
      memoryGb: n.memoryGb,
      small: n.micro,
      ingress: n.ingress,
      dataGb: n.dataVolumeGb,
      diskGb: n.bootVolumeGb,
    })),

  async build(config: StackConfig, components: readonly CatalogEntry[], usage?: UsageLine[]): Promise<Machines> {
    const update = await planUpdate(config, config.nodes, jumpHostOf(config.nodes));
    const guards = await createGuards({
      compartmentId: config.compartmentId,
      clusterName: config.clusterName,
      stack: config.stack,
      usage: usage ?? computeUsage(freeTierPlan(config)),
      ...config.guards,
      tags: { "oci-k8s-cluster": config.clusterName, "oci-k8s-stack": config.stack },
    });
    const infra = createInfrastructure(config, clusterNeeds(config, components, update.drainGate), guards.quota);
    const { hosts, ssh } = ociHosts(config, infra);
    const ingressIp = infra.ingress.publicIp;
    return {
      hosts,
      ssh,
      apiEndpoint: ingressIp,
      // kubeadm's control-plane endpoint inside the VCN: the load balancer's private address.
      ...(config.distribution === "kubeadm"
        ? { internalApi: { address: infra.ingress.privateAddress, ready: infra.ingress.apiListener } }
        : {}),
      ingressAddress: ingressIp,
      // A node's only VCN address is its VNIC's: the pod network leaves by the interface holding it.
      nodeNetworks: [config.vcnCidr],
      uninstallEverywhere: false,
      rolling: update.rolling,
      drainGate: update.drainGate,
      outputs: {
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
          labels: ociNodeLabels(spec),
          taints: ociNodeTaints(spec).map(formatTaint),
        })),
        ...(usage ? { freeTierUsage: usage } : {}),
      },
    };
  },
};
