/**
 * Existing machines: a stack that lists `hosts` builds the cluster on machines people already
 * have (VPSes, other clouds, on-premises) over SSH, and creates nothing on Oracle Cloud. The API
 * endpoint that survives a server is a virtual IP held by kube-vip, or a load balancer or DNS
 * name the stack names.
 */
import { z } from "zod";
import { NODE_ROLES } from "../k8s/bootstrap/types";
import { HOST_KEY_MESSAGE, hostKeyOnly, isCompleteHostKey } from "./host-keys";
import {
  checkEndpoints,
  checkHostEntries,
  checkJumpHost,
  checkKinds,
  checkPools,
  clusterNetworks,
  type HostsContext,
  isHostIngress,
} from "./hosts-checks";
import { allowed, Bad, bool, nodeName, str, Values } from "./keys";

export { isCompleteHostKey } from "./host-keys";
export { isHostIngress } from "./hosts-checks";
export type { HostsContext } from "./hosts-checks";

const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const DNS_NAME = /^(?=.{1,253}$)((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)*(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export const isIpv4 = (text: string) => IPV4.test(text);

const hostKey = () => z.string().refine(isCompleteHostKey, HOST_KEY_MESSAGE);

/** Character devices and kernel filesystems under /dev that are never a data disk. */
const NOT_A_DISK =
  /^\/dev\/(null|zero|full|u?random|tty\w*|console|ptmx|kmsg|mem|kmem|port|stdin|stdout|stderr|fd|pts|shm|mqueue|hugepages|net|cpu|char)(\/|$)/;

/** A block device path: under /dev, no `.` or `..` segment, no character device or kernel filesystem. */
const dataDisk = () =>
  z
    .string()
    .refine(
      (d) => /^\/dev\/[A-Za-z0-9_.:+@-]+(\/[A-Za-z0-9_.:+@-]+)*$/.test(d) && !d.split("/").some((p) => p === "." || p === ".."),
      "must be a block device path under /dev without . or .. (like /dev/sdb or /dev/disk/by-id/...)",
    )
    .refine((d) => !NOT_A_DISK.test(d), "must be a disk, not a character device or kernel filesystem like /dev/null");

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
  // Checked by Kubernetes' own rules in checkHosts, which names the label or taint.
  labels: z
    .record(z.string(), z.string({ error: "must be a string label value" }), { error: "must be a map of label keys to values" })
    .default({}),
  taints: z.array(z.string(), { error: "must be a list of taints like key=value:NoSchedule" }).default([]),
  ingress: z.boolean({ error: "must be true or false" }).optional(),
  dataDisk: dataDisk().optional(),
  hostKey: hostKey().optional(),
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
  hostKey:
    "The host's SSH public host key (`ssh-keyscan`, or its `/etc/ssh/ssh_host_ed25519_key.pub` line, comment and all): every connection pins it. Required, unless the host is named in `acceptUnverifiedHostKeys`.",
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
      .refine((k) => k === "" || isCompleteHostKey(k), `${HOST_KEY_MESSAGE}, or empty`)
      .default(""),
    "hosts: the jump host's SSH public host key, pinned on the first hop (required with jumpHost, unless acceptUnverifiedHostKeys names `jumpHost`).",
  ),
  acceptUnverifiedHostKeys: {
    schema: z.array(z.string(), { error: "must be a list of host names" }).default([]),
    type: "array" as const,
    items: "string" as const,
    description:
      "hosts: the hosts (by name, or `jumpHost`) the program may reach without a pinned host key, accepting whatever key answers: the cluster token and the backup keys then travel to it unverified. Every other host needs its hostKey.",
  },
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
    schema: z
      .array(
        z
          .string()
          .regex(IPV4, "must be an IPv4 address")
          .refine(
            (a) => !a.startsWith("127.") && a !== "0.0.0.0",
            "must be a real resolver, not a loopback stub (127.0.0.0/8) or 0.0.0.0",
          ),
        { error: "must be a list of IPv4 addresses" },
      )
      .default([]),
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

export function checkHosts(c: HostsContext, bad: Bad): void {
  if (!checkKinds(c, HOSTS_KEYS, bad) || !c.hosts) return;
  const inClusterNet = clusterNetworks(c);
  checkHostEntries(c, inClusterNet, bad);
  checkJumpHost(c, bad);
  checkEndpoints(c, inClusterNet, bad);
  checkPools(c, inClusterNet, bad);
}

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
    hostKey: h.hostKey ? hostKeyOnly(h.hostKey) : undefined,
  };
}

export type HostSpec = Readonly<ReturnType<typeof resolveHost>>;

export function resolveHosts(c: HostsValues) {
  return {
    hosts: c.hosts?.map((h): HostSpec => resolveHost(h, c.hostUser)),
    hostUser: c.hostUser,
    jumpHost: c.jumpHost ? { address: c.jumpHost, hostKey: c.jumpHostKey ? hostKeyOnly(c.jumpHostKey) : undefined } : undefined,
    apiVip: c.apiVip ? { address: c.apiVip, interface: c.apiVipInterface } : undefined,
    apiAddress: c.apiAddress || undefined,
    upstreamDns: c.upstreamDns,
    hostFirewall: c.hostFirewall,
  };
}
