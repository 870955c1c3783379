/**
 * Everything the program creates on Oracle Cloud, from plain inputs (infra/types.ts): the
 * network, one ClusterNode per node, and the ingress load balancer. Nothing here knows
 * Kubernetes; the ports between nodes and the API's port are handed in.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { Cidr, lastUsableAddress, parseCidr } from "./cidr";
import * as tls from "@pulumi/tls";
import { placeNode } from "./availability-domains";
import { Plan } from "./budget";
import { ubuntuImageId } from "./images";
import { IngressLoadBalancer } from "./ingress";
import { Network } from "./network";
import { ClusterNode, SSH_USER } from "./node";
import { ClusterPort } from "./ports";
import { NsgName } from "./security-rules";
import { InfraNode, InfraSpec } from "./types";

/** The free-tier plan of a config: what the budget check counts. */
export function freeTierPlan(config: Pick<InfraSpec, "tier" | "nodes" | "natGateway">): Plan {
  return {
    tier: config.tier,
    nodes: config.nodes,
    natGateway: config.natGateway,
    networkLoadBalancers: 1,
    flexibleLoadBalancers: 0,
    vcns: 1,
  };
}

export interface ProvisionedNode {
  readonly spec: InfraNode;
  readonly node: ClusterNode;
}

export interface Infrastructure {
  readonly network: Network;
  readonly nodes: readonly ProvisionedNode[];
  readonly ingress: IngressLoadBalancer;
  readonly sshUser: string;
  readonly sshPublicKey: pulumi.Output<string>;
  /** The private key (secret): generated, or the stack's; absent when the SSH agent holds it. */
  readonly sshPrivateKey?: pulumi.Output<string>;
  /** Whether the program generated the key pair (then the private key is a stack output). */
  readonly sshKeyGenerated: boolean;
}

/** What the cluster on top asks of the infrastructure. */
export interface ClusterNeeds {
  /** The only ports opened between nodes. */
  readonly clusterPorts: readonly ClusterPort[];
  /** The Kubernetes API's port: from admin networks and the nodes through the load balancer, to the servers. */
  readonly apiPort: number;
  /** Agents reach the API on the load balancer's private address (kubeadm's control-plane endpoint). */
  readonly internalApi: boolean;
  /** What a node's instance must wait for before it changes (the node's drain, when it is resized). */
  readonly instanceAfter?: (nodeName: string) => pulumi.Input<pulumi.Resource> | undefined;
}

/** Builds the network, nodes and load balancer; `quota`, the compartment's quota policy, goes before every instance. */
export function createInfrastructure(config: InfraSpec, needs: ClusterNeeds, quota?: pulumi.Resource): Infrastructure {
  const tags = { "oci-k8s-cluster": config.clusterName, "oci-k8s-stack": config.stack };
  const { compartmentId } = config;

  const { sshPublicKey, sshPrivateKey } = sshKeyPair(config);

  const network = new Network("network", {
    compartmentId,
    clusterName: config.clusterName,
    vcnCidr: config.vcnCidr,
    publicSubnetCidr: config.publicSubnetCidr,
    privateSubnetCidr: config.privateSubnetCidr,
    natGateway: config.natGateway,
    clusterPorts: needs.clusterPorts,
    internalApi: needs.internalApi,
    apiPort: needs.apiPort,
    adminCidrs: config.adminCidrs,
    tags,
  });

  const regionAds = oci.identity
    .getAvailabilityDomainsOutput({ compartmentId })
    .apply((r) => r.availabilityDomains.map((ad) => ad.name));

  const images = new Map<string, pulumi.Output<string>>();
  const imageFor = (spec: InfraNode): pulumi.Input<string> => {
    if (spec.imageId) return spec.imageId;
    if (!images.has(spec.shape))
      images.set(spec.shape, ubuntuImageId(compartmentId, spec.shape, spec.arch, config.ubuntuVersion));
    return images.get(spec.shape)!;
  };

  const nodes = config.nodes.map((spec, index): ProvisionedNode => {
    const nsgs: NsgName[] = [
      "nodes",
      // etcd-only members are in the servers' group too: etcd peers reach each other there.
      ...(spec.role !== "agent" ? ["servers" as const] : []),
      ...(spec.ingress ? ["ingress" as const] : []),
    ];
    const subnetId = spec.subnet === "private" ? network.privateSubnetId! : network.publicSubnetId;
    const node = new ClusterNode(spec.name, {
      spec,
      compartmentId,
      clusterName: config.clusterName,
      availabilityDomain: regionAds.apply((ads) => placeNode(spec, index, ads, config.availabilityDomains)),
      availabilityDomainDerived: spec.availabilityDomain === undefined,
      imageId: imageFor(spec),
      subnetId,
      nsgIds: nsgs.map((n) => network.nsgIds[n]),
      sshPublicKey,
      tags,
      changeAfter: needs.instanceAfter?.(spec.name),
      quota,
    });
    return { spec, node };
  });

  const backends = (filter: (s: InfraNode) => boolean) =>
    nodes.filter((n) => filter(n.spec)).map((n) => ({ name: n.spec.name, instanceId: n.node.instanceId }));
  const ingress = new IngressLoadBalancer("ingress", {
    compartmentId,
    clusterName: config.clusterName,
    subnetId: network.publicSubnetId,
    nsgId: network.nsgIds.loadBalancer,
    ingressNodes: backends((s) => s.ingress),
    apiNodes: backends((s) => s.role === "server"),
    tags,
    privateAddress: lastUsableAddress(parseCidr(config.publicSubnetCidr) as Cidr),
    apiPort: needs.apiPort,
  });

  return { network, nodes, ingress, sshUser: SSH_USER, sshPublicKey, sshPrivateKey, sshKeyGenerated: !config.sshPublicKey };
}

/** The stack's SSH key pair, or a generated one (its private key secret). */
function sshKeyPair(config: InfraSpec): { sshPublicKey: pulumi.Output<string>; sshPrivateKey?: pulumi.Output<string> } {
  if (config.sshPublicKey) {
    return {
      sshPublicKey: pulumi.output(config.sshPublicKey),
      sshPrivateKey: config.sshPrivateKey ? pulumi.secret(config.sshPrivateKey) : undefined,
    };
  }
  const key = new tls.PrivateKey("ssh-key", { algorithm: "ED25519" });
  return { sshPublicKey: key.publicKeyOpenssh, sshPrivateKey: pulumi.secret(key.privateKeyOpenssh) };
}
