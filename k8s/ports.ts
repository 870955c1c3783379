/**
 * The ports a cluster opens between its nodes, as data: each distribution lists its own (on
 * `Distribution.ports`), and enabled components add their host-network ports. Whatever carries
 * them to the network (Oracle Cloud's security groups, a host firewall) maps this type onto its own.
 */

/** Which nodes: every node, or the control plane (servers and etcd-only members). */
export type NodeSet = "nodes" | "servers";

/** A port one set of nodes opens to another. */
export interface PortRule {
  readonly protocol: "tcp" | "udp";
  readonly min: number;
  readonly max: number;
  /** Who opens the connection. */
  readonly from: NodeSet;
  /** Who listens. */
  readonly to: NodeSet;
  readonly description: string;
}

/** The Kubernetes API server's port, on every distribution. */
export const API_PORT = 6443;

export const portRule = (
  protocol: "tcp" | "udp",
  range: number | [number, number],
  from: NodeSet,
  to: NodeSet,
  description: string,
): PortRule => {
  const [min, max] = typeof range === "number" ? [range, range] : range;
  return { protocol, min, max, from, to, description };
};

/** What every distribution here opens: the API, etcd, the kubelet, and flannel's VXLAN. */
export const COMMON_PORTS: readonly PortRule[] = [
  portRule("tcp", API_PORT, "nodes", "servers", "Kubernetes API from every node"),
  portRule("tcp", [2379, 2380], "servers", "servers", "etcd client and peer traffic between servers"),
  portRule("tcp", 10250, "nodes", "nodes", "kubelet API (logs, exec, metrics-server)"),
  portRule("udp", 8472, "nodes", "nodes", "flannel VXLAN pod network"),
];

/** Node-to-node rules for the host-network ports of enabled platform components (the catalog declares them). */
export function componentPortRules(ports: readonly { protocol: "tcp" | "udp"; port: number; description: string }[]): PortRule[] {
  return ports.map((p) => portRule(p.protocol, p.port, "nodes", "nodes", p.description));
}
