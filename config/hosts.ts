/**
 * Existing machines: a stack that lists `hosts` builds the cluster on machines people already
 * have (VPSes, other clouds, on-premises) over SSH, and creates nothing on Oracle Cloud. The API
 * endpoint that survives a server is a virtual IP held by kube-vip, or a load balancer or DNS
 * name the stack names.
 */
import { z } from "zod";
import { NODE_ROLES } from "../k8s/bootstrap/types";
import { allowed, Bad, bool, nodeName, str, Values } from "./keys";

const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const DNS_NAME = /^(?=.{1,253}$)((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)*(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$/;
const TAINT = /^[A-Za-z0-9./-]+(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/;
const LABEL_KEY = /^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export const isIpv4 = (text: string) => IPV4.test(text);

const address = () => z.string().refine((a) => IPV4.test(a) || DNS_NAME.test(a), "must be an IPv4 address or a DNS name");

export const hostSchema = z.strictObject({
  name: nodeName(),
  role: z.enum(NODE_ROLES, { error: allowed(NODE_ROLES) }),
  address: address(),
  privateIp: z.string().regex(IPV4, "must be an IPv4 address").optional(),
  user: z.string().regex(LINUX_USER, "must be a Linux user name").optional(),
  arch: z.enum(["amd64", "arm64"], { error: allowed(["amd64", "arm64"]) }).default("amd64"),
  memoryGb: z
    .number({ error: "must be a number" })
    .min(1, "must be at least 1 GB")
    .max(4096, "must be at most 4096 GB")
    .default(2),
  labels: z
    .record(z.string().regex(LABEL_KEY, "must be a label key"), z.string().max(63, "must be at most 63 characters"))
    .default({}),
  taints: z.array(z.string().regex(TAINT, "must be a taint like key=value:NoSchedule")).default([]),
  ingress: z.boolean({ error: "must be true or false" }).optional(),
  dataDisk: z
    .string()
    .regex(/^\/dev\/[A-Za-z0-9/_.-]+$/, "must be a block device path like /dev/sdb or /dev/disk/by-id/...")
    .optional(),
  hostKey: z.string().regex(HOST_KEY, "must be an OpenSSH public host key like ssh-ed25519 AAAA...").optional(),
});

export type RawHost = z.infer<typeof hostSchema>;

/** One line per host field for the configuration reference. */
export const HOST_FIELD_DOCS: Readonly<Record<keyof RawHost, string>> = {
  name: "**required** Node name (a-z, 0-9, -; 1-30 characters).",
  role: "**required** `server`, `agent` or `etcd` (k3s/RKE2), as for `nodes`.",
  address: "**required** IPv4 address or DNS name the program reaches the host at over SSH.",
  privateIp: "Address other nodes reach it at (node IP); default: `address` (required when that is a DNS name).",
  user: "SSH user with passwordless sudo (default `hostUser`).",
  arch: "`amd64` (default) or `arm64`.",
  memoryGb: "Memory of the machine in GB (default 2): sizes the kubelet's reservations and the capacity check.",
  labels: "Extra node labels, `{key: value}`.",
  taints: "Extra taints, `key=value:Effect`.",
  ingress: "Runs the ingress controller on host ports 80/443 (default: true, except etcd-only members).",
  dataDisk:
    "A block device for storage: formatted once and mounted by UUID for local-path and Longhorn, or left raw for Rook-Ceph.",
  hostKey: "The host's SSH public host key (`ssh-keyscan`): every connection pins it. Without it any key is accepted.",
};

export const HOSTS_KEYS = {
  hosts: {
    schema: z.array(hostSchema, { error: "must be a list of hosts" }).optional(),
    type: "object" as const,
    description:
      "Existing machines to build the cluster on over SSH, instead of Oracle Cloud nodes: a list of {name, role, address, privateIp, user, arch, memoryGb, labels, taints, ingress, dataDisk, hostKey}. Creates no Oracle Cloud resource.",
  },
  hostUser: str(
    z.string().regex(LINUX_USER, "must be a Linux user name").default("root"),
    "hosts: the SSH user of hosts that name none (it needs passwordless sudo).",
  ),
  jumpHost: str(
    z
      .string()
      .refine((a) => a === "" || IPV4.test(a) || DNS_NAME.test(a), "must be an IPv4 address or a DNS name, or empty")
      .default(""),
    "hosts: a bastion every SSH connection goes through (same user and key), or empty to reach hosts directly.",
  ),
  jumpHostKey: str(
    z
      .string()
      .refine((k) => k === "" || HOST_KEY.test(k), "must be an OpenSSH public host key, or empty")
      .default(""),
    "hosts: the jump host's SSH public host key, pinned on the first hop.",
  ),
  apiVip: str(
    z
      .string()
      .refine((a) => a === "" || IPV4.test(a), "must be an IPv4 address, or empty")
      .default(""),
    "hosts: a free address on the servers' network that kube-vip holds on one server at a time (ARP): the API endpoint that survives a server.",
  ),
  apiVipInterface: str(
    z
      .string()
      .regex(/^([A-Za-z0-9._-]{1,15})?$/, "must be a network interface name like ens3, or empty")
      .default(""),
    "hosts: the servers' network interface kube-vip announces apiVip on (checked on every server before the install); default: the interface holding each server's privateIp.",
  ),
  apiAddress: str(
    z
      .string()
      .refine((a) => a === "" || IPV4.test(a) || DNS_NAME.test(a), "must be an IPv4 address or a DNS name, or empty")
      .default(""),
    "hosts: an existing load balancer or DNS name in front of the servers' port 6443, used as the API endpoint.",
  ),
  upstreamDns: {
    schema: z.array(z.string().regex(IPV4, "must be an IPv4 address"), { error: "must be a list of IPv4 addresses" }).default([]),
    type: "array" as const,
    items: "string" as const,
    description:
      "hosts: DNS resolvers for hosts that have only a local stub (127.0.0.53); the kubelet hands pods the host's real resolvers.",
  },
  hostFirewall: bool(
    false,
    "hosts: apply the port table with nftables on each host (SSH and the API from adminCidrs, the cluster's ports from the other hosts, 80/443 on ingress hosts).",
  ),
};

export type HostsValues = Values<typeof HOSTS_KEYS>;

export function checkHosts(c: HostsValues & { nodesGiven: boolean; distribution: string }, bad: Bad): void {
  if (!c.hosts) {
    for (const key of ["apiVip", "apiAddress", "jumpHost"] as const) if (c[key]) bad(key, c[key], "applies to hosts stacks only");
    if (c.hostFirewall) bad("hostFirewall", true, "applies to hosts stacks only (Oracle Cloud nodes are firewalled by NSGs)");
    return;
  }
  if (c.nodesGiven)
    bad("nodes", "(set)", "cannot be combined with hosts: a stack builds on Oracle Cloud nodes or on existing hosts");
  if (c.hosts.length === 0) bad("hosts", [], "must list at least one host with role: server");
  const seen = new Set<string>();
  c.hosts.forEach((h, i) => {
    if (seen.has(h.name)) bad(`hosts[${i}].name`, h.name, "is used by an earlier host; names must be unique");
    seen.add(h.name);
    if (!h.privateIp && !IPV4.test(h.address))
      bad(`hosts[${i}].privateIp`, undefined, "must be set when address is a DNS name (it is the node's IP)");
    if (h.role === "etcd" && c.distribution === "kubeadm")
      bad(`hosts[${i}].role`, h.role, "needs k3s or rke2: kubeadm's stacked etcd runs only on control-plane servers");
    if (h.role === "etcd" && h.ingress) bad(`hosts[${i}].ingress`, true, "is not allowed on an etcd-only host");
  });
  const servers = c.hosts.filter((h) => h.role === "server").length;
  const members = c.hosts.filter((h) => h.role !== "agent").length;
  if (servers === 0)
    bad(
      "hosts",
      c.hosts.map((h) => h.name),
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
  if (c.apiVip && c.hosts.some((h) => (h.privateIp ?? h.address) === c.apiVip))
    bad("apiVip", c.apiVip, "is a host's own address; kube-vip needs a free one on the servers' network");
  if (servers > 1 && !c.apiVip && !c.apiAddress)
    bad("apiVip", "", "must be set (or apiAddress) with more than one server: the API endpoint must survive a server");
  if (!c.hosts.some((h) => isHostIngress(h)))
    bad(
      "hosts",
      c.hosts.map((h) => h.name),
      "must include a host that takes ingress traffic",
    );
}

export const isHostIngress = (h: RawHost) => h.ingress ?? h.role !== "etcd";

/** A host with every default resolved. */
function resolveHost(h: RawHost, hostUser: string) {
  return {
    name: h.name,
    role: h.role,
    address: h.address,
    privateIp: h.privateIp ?? h.address,
    user: h.user ?? hostUser,
    arch: h.arch,
    memoryGb: h.memoryGb,
    labels: h.labels,
    taints: h.taints,
    ingress: isHostIngress(h),
    dataDisk: h.dataDisk,
    hostKey: h.hostKey,
  };
}

export type HostSpec = Readonly<ReturnType<typeof resolveHost>>;

export function resolveHosts(c: HostsValues) {
  return {
    hosts: c.hosts?.map((h): HostSpec => resolveHost(h, c.hostUser)),
    hostUser: c.hostUser,
    jumpHost: c.jumpHost ? { address: c.jumpHost, hostKey: c.jumpHostKey || undefined } : undefined,
    apiVip: c.apiVip ? { address: c.apiVip, ...(c.apiVipInterface ? { interface: c.apiVipInterface } : {}) } : undefined,
    apiAddress: c.apiAddress || undefined,
    upstreamDns: c.upstreamDns,
    hostFirewall: c.hostFirewall,
  };
}
