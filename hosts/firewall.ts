/**
 * The host firewall of an existing machine: the same port table Oracle Cloud's security groups
 * are built from (the distribution's ports between nodes, the components' host ports, SSH and the
 * API from admin networks, 80/443 on ingress hosts), as one nftables table. The plan prints it
 * per host; with `hostFirewall` on, host-firewall.sh applies exactly this ruleset.
 */
import type { NodeRole } from "../k8s/node";
import type { PortRule } from "../k8s/ports";

export const SSH_PORT = 22;
export const WEB_PORTS = [80, 443] as const;
/** The nftables table the program owns on each host; nothing else of the host's ruleset is touched. */
export const TABLE = "oci_k8s";

/** A host as the firewall sees it. */
export interface FirewallHost {
  readonly name: string;
  readonly role: NodeRole;
  /** The address other hosts connect from (its private IP). */
  readonly privateIp: string;
  /** The address the program reaches it at (a public IP, a DNS name, or the private IP). */
  readonly address?: string;
  readonly ingress: boolean;
}

/**
 * The interfaces pod traffic arrives on: flannel's bridge and VXLAN device (k3s, kubeadm's
 * kube-flannel, RKE2's Canal), Calico's per-pod veths (RKE2's Canal), and the bridge of the
 * CNI plugins' own configs.
 */
export const CNI_INTERFACES = ["cni0", "flannel.1", "cali*", "cbr0"] as const;

/** IP protocol numbers (IANA), so the ruleset never depends on the host's /etc/protocols. */
const ICMP = 1;
const IPV6_ICMP = 58;
const TCP = 6;

/** One port a host opens: to whom, and why. */
export interface OpenPort {
  readonly protocol: "tcp" | "udp";
  readonly min: number;
  readonly max: number;
  /** Source addresses; "any" for the internet. */
  readonly from: readonly string[] | "any";
  readonly description: string;
}

export interface FirewallPlan {
  /** The cluster's node-to-node ports (the distribution's and the enabled components'). */
  readonly clusterPorts: readonly PortRule[];
  readonly apiPort: number;
  readonly adminCidrs: readonly string[];
  /** The pod network: pods reach host-network services (the API, node-exporter) from it. */
  readonly podCidr: string;
  /** MetalLB's address pools (CIDRs or ranges): Services of type LoadBalancer, open as Services are. */
  readonly loadBalancerPools?: readonly string[];
  readonly hosts: readonly FirewallHost[];
}

const isServerSide = (h: FirewallHost) => h.role !== "agent";

/** Every port one host opens, with its sources. */
export function openPorts(plan: FirewallPlan, host: FirewallHost): OpenPort[] {
  const peers = (set: "nodes" | "servers") =>
    plan.hosts.filter((h) => h !== host && (set === "nodes" || isServerSide(h))).map((h) => h.privateIp);
  const listens = (set: "nodes" | "servers") => set === "nodes" || isServerSide(host);
  const ports: OpenPort[] = [
    { protocol: "tcp", min: SSH_PORT, max: SSH_PORT, from: plan.adminCidrs, description: "SSH from the admin networks" },
  ];
  if (host.role === "server") {
    const api = plan.apiPort;
    ports.push({
      protocol: "tcp",
      min: api,
      max: api,
      from: plan.adminCidrs,
      description: "Kubernetes API from the admin networks",
    });
  }
  for (const rule of plan.clusterPorts) {
    const from = peers(rule.from);
    if (!listens(rule.to) || from.length === 0) continue;
    ports.push({ protocol: rule.protocol, min: rule.min, max: rule.max, from, description: rule.description });
  }
  if (host.ingress) {
    for (const port of WEB_PORTS)
      ports.push({ protocol: "tcp", min: port, max: port, from: "any", description: "web traffic to the ingress controller" });
  }
  return ports;
}

const range = (p: OpenPort) => (p.min === p.max ? String(p.min) : `${p.min}-${p.max}`);
const quote = (text: string) => `"${text.replace(/["\\]/g, "")}"`;

/** The lines the plan prints for a host: `port/proto from whom: why`. */
export function describePorts(plan: FirewallPlan, host: FirewallHost): string[] {
  return openPorts(plan, host).map(
    (p) => `${range(p)}/${p.protocol} from ${p.from === "any" ? "anywhere" : p.from.join(", ")}: ${p.description}`,
  );
}

/**
 * The host's ruleset for `nft -f`: the program's own table, replaced atomically (declared,
 * deleted and defined again in one transaction).
 *
 * - input: drops what the table does not name; the pod network is admitted only on the CNI's
 *   interfaces (a spoofed pod address on the public interface is not).
 * - forward: NodePorts and hostPorts arrive at the host's own address and are DNAT'd to a pod, so
 *   they pass the forward hook, not input. A connection whose original destination (before DNAT)
 *   was not a MetalLB address is admitted only from the other hosts, the pod network, the admin
 *   networks, and on ingress hosts to 80/443; every other forwarded packet (pod to pod, to
 *   ClusterIPs, to MetalLB addresses) is left to the CNI and kube-proxy.
 */
export function renderRuleset(plan: FirewallPlan, host: FirewallHost): string {
  const rules = openPorts(plan, host).map((p) => {
    const from = p.from === "any" ? "" : `ip saddr { ${p.from.join(", ")} } `;
    return `    ${from}${p.protocol} dport ${range(p)} accept comment ${quote(p.description)}`;
  });
  const peers = plan.hosts.filter((h) => h !== host).map((h) => h.privateIp);
  const trusted = [...new Set([...peers, plan.podCidr, ...plan.adminCidrs])];
  const cni = `iifname { ${CNI_INTERFACES.map((i) => `"${i}"`).join(", ")} }`;
  const pools = plan.loadBalancerPools ?? [];
  return [
    `table inet ${TABLE}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    "    ct state established,related accept",
    "    ct state invalid drop",
    '    iifname "lo" accept',
    `    meta l4proto { ${ICMP}, ${IPV6_ICMP} } accept comment "ICMP: path MTU discovery, unreachable, ping"`,
    `    ${cni} ip saddr ${plan.podCidr} accept comment "pods reach host-network services (the API, metrics)"`,
    ...rules,
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    "    ct state established,related accept",
    ...(pools.length > 0
      ? [`    ct original ip daddr { ${pools.join(", ")} } accept comment "MetalLB addresses: Services of type LoadBalancer"`]
      : []),
    '    ct status dnat jump to_host_ports comment "NodePorts and hostPorts, translated from this host\'s own address"',
    "  }",
    "  chain to_host_ports {",
    `    ip saddr { ${trusted.join(", ")} } accept comment "the other hosts, the pod network, the admin networks"`,
    ...(host.ingress
      ? [
          `    meta l4proto ${TCP} ct original proto-dst { ${WEB_PORTS.join(", ")} } accept comment "web traffic to the ingress controller's host ports"`,
        ]
      : []),
    "    drop",
    "  }",
    "}",
    "",
  ].join("\n");
}
