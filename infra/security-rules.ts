/**
 * Every network security rule of the cluster, as data computed from the config. The Network
 * component turns each into one NSG rule; tests read the same list to prove least privilege.
 */
import { WORLD } from "./cidr";
import { ClusterPort, HTTP_PORT, HTTPS_PORT, SSH_PORT } from "./ports";

/** The network security groups: every node, the control plane, the ingress nodes, the load balancer. */
export const NSG_NAMES = ["nodes", "servers", "ingress", "loadBalancer"] as const;
export type NsgName = (typeof NSG_NAMES)[number];

export type Peer = { readonly cidr: string } | { readonly nsg: NsgName };

export interface SecurityRule {
  readonly nsg: NsgName;
  readonly direction: "INGRESS" | "EGRESS";
  readonly protocol: "tcp" | "udp" | "icmp" | "all";
  /** Destination port range for tcp/udp. */
  readonly ports?: { readonly min: number; readonly max: number };
  /** ICMP type and code for icmp. */
  readonly icmp?: { readonly type: number; readonly code: number };
  /** Source of an ingress rule, destination of an egress rule. */
  readonly peer: Peer;
  readonly description: string;
}

export interface RuleOptions {
  /** Ports the distribution needs between nodes. */
  readonly clusterPorts: readonly ClusterPort[];
  readonly adminCidrs: readonly string[];
  /** Nodes sit in a private subnet and are reached through a public node (SSH jump host). */
  readonly privateNodes: boolean;
  /** Nodes reach the API through the load balancer's private address (kubeadm's control-plane endpoint). */
  readonly internalApi?: boolean;
  /** The port the Kubernetes API listens on (the distribution owns it). */
  readonly apiPort: number;
}

/** OCI protocol numbers. */
export const PROTOCOL_NUMBER: Readonly<Record<SecurityRule["protocol"], string>> = {
  icmp: "1",
  tcp: "6",
  udp: "17",
  all: "all",
};

/** ICMP type 3 code 4 ("fragmentation needed"): path MTU discovery between MTU 9000 and 1500 networks. */
export const PATH_MTU_ICMP = { type: 3, code: 4 } as const;

const single = (p: number) => ({ min: p, max: p });

export function securityRules(o: RuleOptions): SecurityRule[] {
  const rules: SecurityRule[] = [];
  const allow = (rule: SecurityRule) => rules.push(rule);
  const tcpIn = (nsg: NsgName, port: number, peer: Peer, description: string) =>
    allow({ nsg, direction: "INGRESS", protocol: "tcp", ports: single(port), peer, description });

  for (const p of o.clusterPorts) {
    allow({
      nsg: p.to,
      direction: "INGRESS",
      protocol: p.protocol,
      ports: { min: p.min, max: p.max },
      peer: { nsg: p.from },
      description: p.description,
    });
  }

  for (const cidr of o.adminCidrs) {
    tcpIn("nodes", SSH_PORT, { cidr }, "SSH from an admin network");
    tcpIn("loadBalancer", o.apiPort, { cidr }, "Kubernetes API from an admin network");
  }
  if (o.privateNodes) tcpIn("nodes", SSH_PORT, { nsg: "nodes" }, "SSH through the jump host to private nodes");
  tcpIn("servers", o.apiPort, { nsg: "loadBalancer" }, "Kubernetes API and its health check through the load balancer");
  if (o.internalApi)
    tcpIn("loadBalancer", o.apiPort, { nsg: "nodes" }, "Kubernetes API from the nodes, on the load balancer's private address");

  for (const port of [HTTP_PORT, HTTPS_PORT]) {
    tcpIn("loadBalancer", port, { cidr: WORLD }, "web traffic from the internet");
    // The load balancer preserves the client address, so the nodes see the internet as the source.
    tcpIn("ingress", port, { cidr: WORLD }, "web traffic from the internet, client address preserved by the load balancer");
    allow({
      nsg: "loadBalancer",
      direction: "EGRESS",
      protocol: "tcp",
      ports: single(port),
      peer: { nsg: "ingress" },
      description: "web traffic to the ingress nodes",
    });
  }
  allow({
    nsg: "loadBalancer",
    direction: "EGRESS",
    protocol: "tcp",
    ports: single(o.apiPort),
    peer: { nsg: "servers" },
    description: "Kubernetes API to the servers",
  });

  for (const nsg of ["nodes", "loadBalancer"] as const) {
    allow({
      nsg,
      direction: "INGRESS",
      protocol: "icmp",
      icmp: PATH_MTU_ICMP,
      peer: { cidr: WORLD },
      description: "path MTU discovery",
    });
  }
  allow({
    nsg: "nodes",
    direction: "EGRESS",
    protocol: "all",
    peer: { cidr: WORLD },
    description: "nodes reach package mirrors, registries and peers",
  });
  return rules;
}

/** A stable resource name for a rule, so adding one rule never renames the others. */
export function ruleName(r: SecurityRule): string {
  const what = r.ports ? `${r.protocol}-${r.ports.min}${r.ports.max !== r.ports.min ? `-${r.ports.max}` : ""}` : r.protocol;
  const peer = "cidr" in r.peer ? r.peer.cidr.replace(/[./]/g, "-") : r.peer.nsg;
  return `${r.nsg}-${r.direction === "INGRESS" ? "in" : "out"}-${what}-${r.direction === "INGRESS" ? "from" : "to"}-${peer}`;
}
