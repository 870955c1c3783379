/**
 * Which ports each Kubernetes distribution needs between nodes, as data. The network turns
 * every line into one NSG rule; nothing else is opened between nodes.
 */
import { ClusterPort, NodeGroup } from "../infra/ports";
import { DistributionName } from "./bootstrap/distributions";

const port = (
  protocol: "tcp" | "udp",
  range: number | [number, number],
  from: NodeGroup,
  to: NodeGroup,
  description: string,
): ClusterPort => {
  const [min, max] = typeof range === "number" ? [range, range] : range;
  return { protocol, min, max, from, to, description };
};

const apiServer = port("tcp", 6443, "nodes", "servers", "Kubernetes API from every node");
const etcd = port("tcp", [2379, 2380], "servers", "servers", "etcd client and peer traffic between servers");
const kubelet = port("tcp", 10250, "nodes", "nodes", "kubelet API (logs, exec, metrics-server)");
const vxlan = port("udp", 8472, "nodes", "nodes", "flannel VXLAN pod network");

/** Node-to-node rules for the host-network ports of enabled platform components (the catalog declares them). */
export function componentPortRules(
  ports: readonly { protocol: "tcp" | "udp"; port: number; description: string }[],
): ClusterPort[] {
  return ports.map((p) => port(p.protocol, p.port, "nodes", "nodes", p.description));
}

export const CLUSTER_PORTS: Readonly<Record<DistributionName, readonly ClusterPort[]>> = {
  // k3s with its default flannel VXLAN backend and embedded etcd.
  k3s: [apiServer, etcd, kubelet, vxlan],
  // kubeadm binds the scheduler and controller manager (10257/10259) to localhost, so only the
  // API, stacked etcd, kubelet and the flannel CNI the program installs cross the network.
  kubeadm: [apiServer, etcd, kubelet, vxlan],
  // RKE2 with its default canal CNI (flannel VXLAN); nodes register on the supervisor port.
  rke2: [port("tcp", 9345, "nodes", "servers", "RKE2 supervisor (node registration)"), apiServer, etcd, kubelet, vxlan],
};
