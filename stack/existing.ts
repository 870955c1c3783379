/**
 * Machines the stack's owner already has (VPSes, other clouds, on-premises) as the cluster's
 * hosts: prepared and optionally firewalled over SSH (hosts/), reached directly or through a jump
 * host, the API behind a kube-vip VIP, a named load balancer, or the one server. Nothing is
 * created on Oracle Cloud and no free-tier budget applies.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec, StackConfig } from "../config";
import { describePorts, FirewallPlan } from "../hosts/firewall";
import { ExistingHost, prepareHosts } from "../hosts";
import { DISTRIBUTIONS } from "../k8s/bootstrap/distributions";
import { formatTaint, nodeLabels, nodeTaints, Taint } from "../k8s/labels";
import { componentHostPorts, type CatalogEntry } from "../k8s/platform/catalog";
import { componentPortRules } from "../k8s/ports";
import type { CapacityNode, Machines } from "./machines";
import { planUpdate } from "./update";

/** Disk assumed for the platform's volumes on a host (its size is not known to the program). */
export const ASSUMED_DISK_GB = 40;

const isSmall = (h: HostSpec) => h.memoryGb <= 1;
/** With Rook-Ceph, data disks stay raw for Ceph; otherwise they are formatted and mounted. */
const rawDisks = (config: StackConfig) => config.components.includes("rook-ceph");

const parseTaint = (text: string): Taint => {
  const [keyValue, effect] = text.split(":");
  const [key, value = ""] = keyValue.split("=");
  return { key, value, effect: effect as Taint["effect"] };
};

/** A host's labels and taints: the program's (role, arch, ingress, small) and the stack's own. */
function placement(h: HostSpec) {
  const node = { role: h.role, arch: h.arch, ingress: h.ingress, small: isSmall(h) };
  return { labels: { ...nodeLabels(node), ...h.labels }, taints: [...nodeTaints(node), ...h.taints.map(parseTaint)] };
}

/** MetalLB's address pools, when the stack enables it (validated in config/hosts-checks.ts). */
function metallbPools(config: StackConfig): string[] {
  if (!config.components.includes("metallb")) return [];
  const addresses = config.componentValues.metallb?.addresses;
  return Array.isArray(addresses) ? addresses.filter((a): a is string => typeof a === "string") : [];
}

/** The port table of the stack's hosts: the distribution's, the enabled components' host ports, SSH and the API. */
export function firewallPlan(config: StackConfig, components: readonly CatalogEntry[]): FirewallPlan {
  const dist = DISTRIBUTIONS[config.distribution];
  return {
    clusterPorts: [...dist.ports, ...componentPortRules(componentHostPorts(components))],
    apiPort: dist.apiPort,
    adminCidrs: config.adminCidrs,
    podCidr: dist.podCidr,
    loadBalancerPools: metallbPools(config),
    hosts: config.hosts ?? [],
  };
}

export const EXISTING_HOSTS = {
  check: async (): Promise<undefined> => {
    pulumi.log.info("Building on existing hosts: nothing is created on Oracle Cloud, and no free-tier budget applies.");
    return undefined;
  },

  capacity: (config: StackConfig): CapacityNode[] =>
    (config.hosts ?? []).map((h) => ({
      role: h.role,
      memoryGb: h.memoryGb,
      small: isSmall(h),
      ingress: h.ingress,
      dataGb: h.dataDisk && !rawDisks(config) ? ASSUMED_DISK_GB : undefined,
      diskGb: ASSUMED_DISK_GB + 30,
    })),

  async build(config: StackConfig, components: readonly CatalogEntry[]): Promise<Machines> {
    const specs = config.hosts ?? [];
    const update = await planUpdate(config, specs);
    const plan = firewallPlan(config, components);
    pulumi.log.info(
      `Ports each host must open${config.hostFirewall ? " (applied with nftables: hostFirewall)" : " (hostFirewall is off: open them yourself)"}:\n${specs
        .map(
          (h) =>
            `  ${h.name}:\n${describePorts(plan, h)
              .map((l) => `    ${l}`)
              .join("\n")}`,
        )
        .join("\n")}`,
    );
    const existing: ExistingHost[] = specs.map((h) => ({ ...h, ...placement(h), rawDisk: rawDisks(config) }));
    // The stack's key (secret) or the agent, through the jump host where one is set.
    const ssh = {
      user: config.hostUser,
      privateKey: config.sshPrivateKey ? pulumi.secret(config.sshPrivateKey) : undefined,
      bastion: config.jumpHost?.address,
      bastionHostKey: config.jumpHost?.hostKey,
    };
    const hosts = prepareHosts({
      hosts: existing,
      ssh,
      upstreamDns: config.upstreamDns,
      distribution: config.distribution,
      packages: [
        ...(config.components.includes("longhorn") ? ["open-iscsi", "nfs-common"] : []),
        ...(rawDisks(config) ? ["lvm2"] : []),
      ],
      firewall: config.hostFirewall ? plan : undefined,
    });
    const first = specs.find((h) => h.role === "server")!;
    const endpoint = config.apiVip?.address ?? config.apiAddress ?? first.address;
    const ingress = specs.find((h) => h.ingress)!;
    return {
      hosts,
      ssh,
      apiEndpoint: endpoint,
      // kubeadm: agents reach the control plane at the VIP or the named load balancer.
      ...(config.distribution === "kubeadm" && (config.apiVip || config.apiAddress)
        ? { internalApi: { address: endpoint } }
        : {}),
      apiVip: config.apiVip,
      ...(config.apiAddress ? { registrationAddress: config.apiAddress } : {}),
      ingressAddress: ingress.address,
      uninstallEverywhere: true,
      rolling: update.rolling,
      drainGate: update.drainGate,
      outputs: {
        ingressPublicIp: ingress.address,
        sshUser: config.hostUser,
        nodes: existing.map((h) => ({
          name: h.name,
          role: h.role,
          arch: h.arch,
          memoryGb: h.memoryGb,
          privateIp: h.privateIp,
          publicIp: h.address,
          labels: h.labels,
          taints: h.taints.map(formatTaint),
        })),
      },
    };
  },
};
