/**
 * The adapter between the two layers on Oracle Cloud: what the cluster needs of the network (its
 * ports and the API's), and the provisioned instances as the plain hosts the bootstrap takes.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeSpec, StackConfig } from "../config";
import { ClusterNeeds, Infrastructure, ProvisionedNode } from "../infra";
import { DATA_MOUNT_POINT, HOST_READY_MARKER } from "../infra/cloud-init";
import { DISTRIBUTIONS } from "../k8s/bootstrap/distributions";
import type { DrainGate } from "../k8s/bootstrap/drain-gate";
import type { Host, SshAccess } from "../k8s/bootstrap/types";
import { LabelledNode, nodeLabels, nodeTaints } from "../k8s/labels";
import { componentHostPorts, type CatalogEntry } from "../k8s/platform/catalog";
import { componentPortRules } from "../k8s/ports";
import { jumpHostOf, machineOf } from "./update";

export { DATA_MOUNT_POINT, HOST_READY_MARKER };

/** Between nodes: the distribution's ports and the host-network ports of the enabled components. */
export function clusterNeeds(config: StackConfig, components: readonly CatalogEntry[], gate: DrainGate): ClusterNeeds {
  const dist = DISTRIBUTIONS[config.distribution];
  return {
    clusterPorts: [...dist.ports, ...componentPortRules(componentHostPorts(components))],
    apiPort: dist.apiPort,
    // kubeadm's control-plane endpoint inside the VCN: the load balancer's private address.
    internalApi: config.distribution === "kubeadm",
    instanceAfter: (name) => gate.drainOf(name),
  };
}

type OciNode = Pick<NodeSpec, "role" | "arch" | "shape" | "ingress" | "micro">;

/** An Oracle Cloud node as the labels see it: its shape is the instance type, a micro is a small node. */
const labelled = (n: OciNode): LabelledNode => ({
  role: n.role,
  arch: n.arch,
  instanceType: n.shape,
  ingress: n.ingress,
  small: n.micro,
});
export const ociNodeLabels = (n: OciNode) => nodeLabels(labelled(n));
export const ociNodeTaints = (n: OciNode) => nodeTaints(labelled(n));

/** The instances as hosts: private nodes are reached through the jump host, every host key pinned. */
export function ociHosts(config: StackConfig, infra: Infrastructure): { hosts: Host[]; ssh: SshAccess } {
  const jumpSpec = jumpHostOf(config.nodes);
  const jumpHost = jumpSpec && infra.nodes.find((n) => n.spec.name === jumpSpec.name);
  const hosts = infra.nodes.map(({ spec, node }: ProvisionedNode): Host => ({
    name: spec.name,
    role: spec.role,
    arch: spec.arch,
    address: spec.subnet === "public" ? node.publicIp : node.privateIp,
    privateIp: node.privateIp,
    memoryGb: spec.memoryGb,
    labels: ociNodeLabels(spec),
    taints: ociNodeTaints(spec),
    machineId: node.instanceId,
    machine: machineOf(spec),
    dependsOn: [node],
    viaBastion: spec.subnet === "private",
    hostKey: node.hostPublicKey,
  }));
  const ssh: SshAccess = {
    user: infra.sshUser,
    privateKey: infra.sshPrivateKey,
    bastion: jumpHost?.node.publicIp,
    bastionHostKey: jumpHost?.node.hostPublicKey,
  };
  return { hosts, ssh };
}

/** The load balancer's public address: the API endpoint and where ingress traffic arrives. */
export const ingressAddress = (infra: Infrastructure): pulumi.Output<string> => infra.ingress.publicIp;
