/**
 * Everything the program creates on Oracle Cloud, wired from the validated config: the network,
 * one ClusterNode per configured node, and the ingress load balancer.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { Cidr, lastUsableAddress, parseCidr } from "./cidr";
import * as tls from "@pulumi/tls";
import { placeNode } from "./availability-domains";
import { Plan } from "./budget";
import { NodeSpec, StackConfig } from "./config";
import { ubuntuImageId } from "./images";
import { IngressLoadBalancer } from "./ingress";
import { Network } from "./network";
import { ClusterNode, SSH_USER } from "./node";
import { ClusterPort } from "./ports";
import { NsgName } from "./security-rules";

/** The free-tier plan of a config: what the budget check counts. */
export function freeTierPlan(config: StackConfig): Plan {
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
  readonly spec: NodeSpec;
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

/**
 * Builds the network, nodes and load balancer; `clusterPorts` are the only ports opened between
 * nodes; `instanceAfter` names what a node's instance must wait for before it changes (the
 * node's drain, when it is resized).
 */
export function createInfrastructure(
  config: StackConfig,
  clusterPorts: readonly ClusterPort[],
  instanceAfter: (nodeName: string) => pulumi.Input<pulumi.Resource> | undefined = () => undefined,
): Infrastructure {
  const tags = { "oci-k8s-cluster": config.clusterName, "oci-k8s-stack": config.stack };
  const { compartmentId } = config;

  let sshPublicKey: pulumi.Output<string>;
  let sshPrivateKey: pulumi.Output<string> | undefined;
  if (config.sshPublicKey) {
    sshPublicKey = pulumi.output(config.sshPublicKey);
    sshPrivateKey = config.sshPrivateKey ? pulumi.secret(config.sshPrivateKey) : undefined;
  } else {
    const key = new tls.PrivateKey("ssh-key", { algorithm: "ED25519" });
    sshPublicKey = key.publicKeyOpenssh;
    sshPrivateKey = pulumi.secret(key.privateKeyOpenssh);
  }

  const network = new Network("network", {
    compartmentId,
    clusterName: config.clusterName,
    vcnCidr: config.vcnCidr,
    publicSubnetCidr: config.publicSubnetCidr,
    privateSubnetCidr: config.privateSubnetCidr,
    natGateway: config.natGateway,
    clusterPorts,
    internalApi: config.distribution === "kubeadm",
    adminCidrs: config.adminCidrs,
    tags,
  });

  const regionAds = oci.identity
    .getAvailabilityDomainsOutput({ compartmentId })
    .apply((r) => r.availabilityDomains.map((ad) => ad.name));

  const images = new Map<string, pulumi.Output<string>>();
  const imageFor = (spec: NodeSpec): pulumi.Input<string> => {
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
      after: instanceAfter(spec.name),
    });
    return { spec, node };
  });

  const backends = (filter: (s: NodeSpec) => boolean) =>
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
  });

  return { network, nodes, ingress, sshUser: SSH_USER, sshPublicKey, sshPrivateKey, sshKeyGenerated: !config.sshPublicKey };
}
