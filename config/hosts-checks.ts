/**
 * The existing-hosts checks across keys: each refusal names the key, the value and what is allowed,
 * before anything is registered.
 */
import { refuseEtcdMember } from "../k8s/bootstrap/reserved";
import { z } from "zod";
import { Cidr, cidrContains, cidrSize, formatIpv4, parseCidr, parseIpv4 } from "../infra/cidr";
import { DISTRIBUTIONS } from "../k8s/bootstrap/distributions";
import { labelValueProblem, qualifiedNameProblem, reservedPrefix, TAINT_EFFECTS } from "../k8s/labels";
import { allowed, Bad } from "./keys";
import { NETWORK_KEYS } from "./network";
import { NODE_KEYS } from "./nodes";
import { TENANCY_KEYS } from "./tenancy";

const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
/** A host as the checks read it (hosts.ts's schema output). */
export interface RawHost {
  readonly name: string;
  readonly role: "server" | "agent" | "etcd";
  readonly address: string;
  readonly privateIp?: string;
  readonly ingress?: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly string[];
  readonly hostKey?: string;
  /** Memory in GB (the schema defaults it to 2). */
  readonly memoryGb?: number;
}

export const isHostIngress = (h: Pick<RawHost, "ingress" | "role">) => h.ingress ?? h.role !== "etcd";

/** What the hosts checks read of the whole stack besides the hosts keys. */
export interface HostsContext {
  readonly hosts?: readonly RawHost[];
  readonly apiVip: string;
  readonly apiAddress: string;
  readonly jumpHost: string;
  readonly jumpHostKey: string;
  readonly hostFirewall: boolean;
  readonly acceptUnverifiedHostKeys: readonly string[];
  readonly nodesGiven: boolean;
  readonly distribution: keyof typeof DISTRIBUTIONS;
  readonly adminCidrs: readonly string[];
  readonly componentValues?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** Keys only an Oracle Cloud stack uses: on a hosts stack they would be ignored, so they are refused. */
const ORACLE_ONLY = {
  ...TENANCY_KEYS,
  ...NETWORK_KEYS,
  ubuntuVersion: NODE_KEYS.ubuntuVersion,
};
const ORACLE_ONLY_KEYS = [
  "compartmentId",
  "tier",
  "acceptCharges",
  "budgetSharedWith",
  "oracleQuota",
  "oracleBudget",
  "alertEmail",
  "budgetAmount",
  "vcnCidr",
  "publicSubnetCidr",
  "privateSubnetCidr",
  "natGateway",
  "availabilityDomains",
  "sshPublicKey",
  "ubuntuVersion",
] as const satisfies readonly (keyof typeof ORACLE_ONLY)[];
/** Keys only a hosts stack uses. */
const HOSTS_ONLY_KEYS = [
  "apiVip",
  "apiAddress",
  "jumpHost",
  "jumpHostKey",
  "hostUser",
  "apiVipInterface",
  "upstreamDns",
  "acceptUnverifiedHostKeys",
] as const;

const defaultOf = (schema: z.ZodType) => {
  const r = schema.safeParse(undefined);
  return r.success ? r.data : undefined;
};
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** An address range as [first, last]: a CIDR, `a-b`, or one address. */
function rangeOf(text: string): [number, number] | string {
  if (text.includes("/")) {
    const c = parseCidr(text);
    return typeof c === "string" ? c : [c.network, c.network + cidrSize(c) - 1];
  }
  const [a, b = a] = text.split("-");
  const first = parseIpv4(a);
  const last = parseIpv4(b);
  if (first === undefined || last === undefined) return "is not an IPv4 CIDR, range or address";
  if (first > last) return `is reversed: ${a} comes after ${b}; write the lower address first`;
  return [first, last];
}
const within = (ip: number, [first, last]: [number, number]) => ip >= first && ip <= last;
const overlapping = (a: [number, number], b: [number, number]) => a[0] <= b[1] && b[0] <= a[1];

/** Addresses a node can never have, by their block (RFC 6890's special-purpose registry). */
function specialAddress(ip: string): string | undefined {
  const n = parseIpv4(ip)!;
  const blocks: [string, string][] = [
    ["0.0.0.0/8", 'is in 0.0.0.0/8 ("this network"; 0.0.0.0 is unspecified)'],
    ["127.0.0.0/8", "is a loopback address (127.0.0.0/8)"],
    ["169.254.0.0/16", "is a link-local address (169.254.0.0/16)"],
    ["224.0.0.0/4", "is a multicast address (224.0.0.0/4)"],
    ["240.0.0.0/4", "is a reserved address (240.0.0.0/4; 255.255.255.255 is broadcast)"],
  ];
  for (const [cidr, why] of blocks) if (within(n, rangeOf(cidr) as [number, number])) return why;
  return undefined;
}

/** Keys for the other kind of stack: refused, not ignored. Returns false on an Oracle stack (nothing more to check). */
export function checkKinds(c: HostsContext, hostsKeys: Readonly<Record<string, { schema: z.ZodType }>>, bad: Bad): boolean {
  if (!c.hosts) {
    for (const key of HOSTS_ONLY_KEYS) {
      const spec = hostsKeys[key];
      if (!same(c[key], defaultOf(spec.schema)))
        bad(key, c[key], "applies to hosts stacks only (this stack builds on Oracle Cloud nodes)");
    }
    if (c.hostFirewall) bad("hostFirewall", true, "applies to hosts stacks only (Oracle Cloud nodes are firewalled by NSGs)");
    return false;
  }
  if (c.nodesGiven)
    bad("nodes", "(set)", "cannot be combined with hosts: a stack builds on Oracle Cloud nodes or on existing hosts");
  for (const key of ORACLE_ONLY_KEYS) {
    const spec = ORACLE_ONLY[key];
    const value = c[key];
    if (!same(value, defaultOf(spec.schema)))
      bad(
        key,
        "secret" in spec ? "[secret]" : value,
        "applies to Oracle Cloud stacks only; a hosts stack would ignore it: remove it",
      );
  }
  return true;
}

/** "is inside the pod network ..." for an address in the distribution's pod or service network. */
export function clusterNetworks(c: HostsContext): (ip: string) => string | undefined {
  const dist = DISTRIBUTIONS[c.distribution];
  const clusterNets: [string, Cidr][] = [
    ["pod", parseCidr(dist.podCidr) as Cidr],
    ["service", parseCidr(dist.serviceCidr) as Cidr],
  ];
  return (ip: string) => {
    const one = parseCidr(`${ip}/32`) as Cidr;
    const hit = clusterNets.find(([, net]) => cidrContains(net, one));
    return hit && `is inside ${c.distribution}'s ${hit[0]} network ${hit[1].text}; nodes, VIPs and pools must lie outside it`;
  };
}

/** Each host: unique name and address, a real address, its role, labels, taints and host key. */
export function checkHostEntries(c: HostsContext, inClusterNet: (ip: string) => string | undefined, bad: Bad): void {
  const hosts = c.hosts ?? [];
  const names = new Set<string>();
  const addresses = new Map<string, string>();
  hosts.forEach((h, i) => {
    const at = `hosts[${i}]`;
    if (names.has(h.name)) bad(`${at}.name`, h.name, "is used by an earlier host; names must be unique");
    names.add(h.name);
    if (!h.privateIp && !IPV4.test(h.address))
      bad(`${at}.privateIp`, undefined, "must be set when address is a DNS name (it is the node's IP)");
    for (const field of ["address", "privateIp"] as const) {
      const ip = h[field];
      if (!ip || !IPV4.test(ip)) continue;
      const why = specialAddress(ip) ?? inClusterNet(ip);
      if (why) bad(`${at}.${field}`, ip, why);
    }
    // One machine per address: an address (or private IP) two hosts share reaches one of them only.
    for (const ip of new Set([h.address, h.privateIp ?? h.address])) {
      const earlier = addresses.get(ip);
      if (earlier !== undefined && earlier !== h.name)
        bad(`${at}.address`, ip, `is also host ${earlier}'s address; every host needs its own`);
      else addresses.set(ip, h.name);
    }
    if (h.role === "etcd" && c.distribution === "kubeadm")
      bad(`${at}.role`, h.role, "needs k3s or rke2: kubeadm's stacked etcd runs only on control-plane servers");
    const etcdRefusal = refuseEtcdMember(c.distribution, h.role, h.memoryGb ?? 2);
    if (etcdRefusal) bad(`${at}.role`, h.role, etcdRefusal);
    if (h.role === "etcd" && h.ingress) bad(`${at}.ingress`, true, "is not allowed on an etcd-only host");
    checkPlacement(h, at, bad);
    if (!h.hostKey && !c.acceptUnverifiedHostKeys.includes(h.name))
      bad(
        `${at}.hostKey`,
        undefined,
        `must be set: without it the program sends the cluster token and backup keys to whatever answers at ${h.address}; put the host's key there (ssh-keyscan -t ed25519 ${h.address}, checked against the host's console), or name ${h.name} in acceptUnverifiedHostKeys to accept an unverified first contact`,
      );
  });
  c.acceptUnverifiedHostKeys.forEach((name, i) => {
    if (name !== "jumpHost" && !names.has(name))
      bad(`acceptUnverifiedHostKeys[${i}]`, name, `names no host; allowed: ${[...names, "jumpHost"].join(", ")}`);
  });
}

/** The API endpoint and where the platform can run. */
export function checkEndpoints(c: HostsContext, inClusterNet: (ip: string) => string | undefined, bad: Bad): void {
  const hosts = c.hosts ?? [];
  const servers = hosts.filter((h) => h.role === "server");
  const members = hosts.filter((h) => h.role !== "agent").length;
  if (servers.length === 0)
    bad(
      "hosts",
      hosts.map((h) => h.name),
      "must include at least one host with role: server",
    );
  else if (members % 2 === 0)
    bad(
      "hosts",
      `${members} etcd members`,
      "must have an odd number of etcd members (1 or 3): an even count adds no fault tolerance",
    );
  if (c.apiVip && c.apiAddress) bad("apiAddress", c.apiAddress, "goes without apiVip: name one API endpoint");
  if (c.apiAddress && c.distribution === "kubeadm" && !IPV4.test(c.apiAddress))
    bad(
      "apiAddress",
      c.apiAddress,
      "must be an IPv4 address with kubeadm: the nodes pin the control-plane endpoint to it in /etc/hosts",
    );
  if (c.apiAddress && servers.length > 1) {
    const own = servers.find((h) => h.address === c.apiAddress || h.privateIp === c.apiAddress);
    if (own)
      bad(
        "apiAddress",
        c.apiAddress,
        `is server ${own.name}'s own address: the API endpoint would not survive that server; name a load balancer or DNS name in front of every server, or use apiVip`,
      );
  }
  if (c.apiVip) checkVip(c.apiVip, c, servers, inClusterNet, bad);
  if (servers.length > 1 && !c.apiVip && !c.apiAddress)
    bad("apiVip", "", "must be set (or apiAddress) with more than one server: the API endpoint must survive a server");
  if (!hosts.some((h) => isHostIngress(h)))
    bad(
      "hosts",
      hosts.map((h) => h.name),
      "must include a host that takes ingress traffic",
    );
  // The platform needs a host that takes ordinary pods: not etcd-only, no NoSchedule/NoExecute taint of the stack's.
  const runsPods = (h: RawHost) => h.role !== "etcd" && !h.taints.some((t) => /:(NoSchedule|NoExecute)$/.test(t));
  if (hosts.length > 0 && !hosts.some(runsPods))
    bad(
      "hosts",
      hosts.map((h) => h.name),
      "must include a host that runs the platform's pods: every host is etcd-only or tainted NoSchedule/NoExecute by the stack",
    );
}

/** Labels and taints by Kubernetes' own rules; the program's and Kubernetes' prefixes are not the stack's. */
export function checkPlacement(h: RawHost, at: string, bad: Bad): void {
  for (const [key, value] of Object.entries(h.labels)) {
    const keyProblem = qualifiedNameProblem(key);
    const reserved = reservedPrefix(key);
    if (keyProblem) bad(`${at}.labels`, key, `is not a label key: it ${keyProblem} (Kubernetes' IsQualifiedName)`);
    else if (reserved)
      bad(
        `${at}.labels`,
        key,
        `uses the prefix ${reserved}/, which belongs to ${reserved === "kubernetes.io" || reserved === "k8s.io" ? "Kubernetes" : "the program"}; choose a prefix of your own (example.com/${key.split("/")[1]})`,
      );
    const valueProblem = labelValueProblem(value);
    if (valueProblem)
      bad(`${at}.labels.${key}`, value, `is not a label value: it ${valueProblem} (Kubernetes' IsValidLabelValue)`);
  }
  const seen = new Set<string>();
  h.taints.forEach((text, j) => {
    const where = `${at}.taints[${j}]`;
    const match = /^([^=:]+)(?:=([^:]*))?:([^:]*)$/.exec(text);
    if (!match) {
      bad(where, text, "must be a taint like key=value:NoSchedule (the value may be left out: key:NoSchedule)");
      return;
    }
    const [, key, value = "", effect] = match;
    const keyProblem = qualifiedNameProblem(key);
    const reserved = reservedPrefix(key);
    if (keyProblem) bad(where, text, `has a key that ${keyProblem} (Kubernetes' IsQualifiedName)`);
    else if (reserved) bad(where, text, `uses the prefix ${reserved}/, which is not the stack's; choose a prefix of your own`);
    const valueProblem = labelValueProblem(value);
    if (valueProblem) bad(where, text, `has a value that ${valueProblem} (Kubernetes' IsValidLabelValue)`);
    if (!(TAINT_EFFECTS as readonly string[]).includes(effect))
      bad(where, text, `has the effect "${effect}"; ${allowed(TAINT_EFFECTS)}`);
    if (seen.has(`${key}:${effect}`))
      bad(where, text, `repeats the taint ${key} with effect ${effect}; a node holds one per key and effect`);
    seen.add(`${key}:${effect}`);
  });
}

export function checkJumpHost(c: HostsContext, bad: Bad): void {
  if (!c.jumpHost) {
    if (c.jumpHostKey) bad("jumpHostKey", c.jumpHostKey, "goes with jumpHost; set jumpHost or remove jumpHostKey");
    return;
  }
  if (!c.jumpHostKey && !c.acceptUnverifiedHostKeys.includes("jumpHost"))
    bad(
      "jumpHostKey",
      undefined,
      `must be set with jumpHost (ssh-keyscan -t ed25519 ${c.jumpHost}), or name jumpHost in acceptUnverifiedHostKeys`,
    );
  if (c.hostFirewall && IPV4.test(c.jumpHost)) {
    const jump = parseCidr(`${c.jumpHost}/32`) as Cidr;
    const admitted = c.adminCidrs.some((text) => {
      const net = parseCidr(text);
      return typeof net !== "string" && cidrContains(net, jump);
    });
    if (!admitted)
      bad(
        "jumpHost",
        c.jumpHost,
        `is outside adminCidrs (${c.adminCidrs.join(", ")}): with hostFirewall on, the hosts would drop its SSH and cut the program off; add ${c.jumpHost}/32 to adminCidrs`,
      );
  }
}

function checkVip(
  vip: string,
  c: HostsContext,
  servers: RawHost[],
  inClusterNet: (ip: string) => string | undefined,
  bad: Bad,
): void {
  const owner = c.hosts!.find((h) => h.address === vip || (h.privateIp ?? h.address) === vip);
  if (owner) {
    bad("apiVip", vip, `is host ${owner.name}'s own address; kube-vip needs a free one on the servers' network`);
    return;
  }
  const why = specialAddress(vip) ?? inClusterNet(vip);
  if (why) {
    bad("apiVip", vip, why);
    return;
  }
  // kube-vip announces the VIP by ARP: it must be on the servers' own network. Their prefix is not
  // known to the program; the servers' private addresses and the VIP must share a /16 at least.
  const n = parseIpv4(vip)!;
  const apart = servers.filter((h) => {
    const ip = parseIpv4(h.privateIp ?? h.address);
    return ip !== undefined && Math.floor(ip / 65536) !== Math.floor(n / 65536);
  });
  if (apart.length > 0)
    bad(
      "apiVip",
      vip,
      `is not on the servers' network (${apart.map((h) => `${h.name} ${h.privateIp ?? h.address}`).join(", ")} not in its /16): kube-vip announces it by ARP on the servers' own network`,
    );
}

/** MetalLB's pools: ranges that are real, not the world, and clear of the hosts, the VIP and the cluster's networks. */
export function checkPools(c: HostsContext, inClusterNet: (ip: string) => string | undefined, bad: Bad): void {
  const metallb = c.componentValues?.metallb as { addresses?: unknown } | undefined;
  if (!metallb || !Array.isArray(metallb.addresses)) return;
  const pools: [number, number][] = [];
  metallb.addresses.forEach((text: unknown, i: number) => {
    if (typeof text !== "string") return;
    const key = `componentValues.metallb.addresses[${i}]`;
    const range = rangeOf(text);
    if (typeof range === "string") {
      bad(key, text, range);
      return;
    }
    if (range[1] - range[0] + 1 > 65536) {
      bad(key, text, "holds more than 65,536 addresses (wider than a /16): a pool is a few free addresses of your own network");
      return;
    }
    for (const ip of [range[0], range[1]]) {
      const why = specialAddress(formatIpv4(ip)) ?? inClusterNet(formatIpv4(ip));
      if (why) {
        bad(key, text, why.replace(/^is/, "reaches an address that is"));
        return;
      }
    }
    const dist = DISTRIBUTIONS[c.distribution];
    const netOverlap = [dist.podCidr, dist.serviceCidr].filter((net) => overlapping(range, rangeOf(net) as [number, number]));
    if (netOverlap.length > 0) bad(key, text, `overlaps ${c.distribution}'s network ${netOverlap.join(", ")}`);
    for (const h of c.hosts!)
      for (const ip of new Set([h.address, h.privateIp ?? h.address])) {
        const n = parseIpv4(ip);
        if (n !== undefined && within(n, range))
          bad(key, text, `holds host ${h.name}'s address ${ip}; MetalLB would hand it to a Service`);
      }
    if (c.apiVip && within(parseIpv4(c.apiVip)!, range)) bad(key, text, `holds the API VIP ${c.apiVip}`);
    pools.forEach((other, j) => {
      if (overlapping(range, other)) bad(key, text, `overlaps componentValues.metallb.addresses[${j}]`);
    });
    pools.push(range);
  });
}
