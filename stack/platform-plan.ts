/**
 * The platform a stack asks for, checked against its nodes before anything is registered: the
 * enabled catalog entries, the nodes they are counted over, and whether their memory requests fit
 * what the kubelets leave allocatable.
 */
import * as pulumi from "@pulumi/pulumi";
import { CHOICE_KEYS, type StackConfig } from "../config";
import { reservations } from "../k8s/bootstrap/reserved";
import { catalogEntry, CatalogEntry, choicesOf } from "../k8s/platform/catalog";
import { CapacityOptions, checkPlatformCapacity, formatRequestsTable, platformRequests } from "../k8s/platform/capacity";
import type { NodeCounts } from "../k8s/platform/resources";

export interface PlatformPlan {
  readonly components: readonly CatalogEntry[];
  readonly nodes: NodeCounts;
  /** What the platform's volumes may take of one node's disk, in GiB. */
  readonly diskGi: number;
}

/** A node as capacity sees it, whatever the machine: its memory, and whether it is small (tainted). */
export interface CapacityNode {
  readonly role: "server" | "agent" | "etcd";
  readonly memoryGb: number;
  readonly small: boolean;
  readonly ingress: boolean;
  /** Size of its data disk or volume, in GB, when it has one. */
  readonly dataGb?: number;
  readonly diskGb: number;
}

export function planPlatform(config: StackConfig, machines: readonly CapacityNode[]): PlatformPlan {
  const components = config.components.map((name) => catalogEntry(name)!);
  const nodes = nodeCounts(machines);
  const requests = platformRequests(components, nodes);
  checkPlatformCapacity(requests, allocatable(machines), capacityOptions(components, nodes));
  pulumi.log.info(`Platform memory requests:\n${formatRequestsTable(requests)}`);
  return { components, nodes, diskGi: platformDiskGi(machines) };
}

/** What the stack could change: its addons, and each other pick of the choices it made, sized on the same nodes. */
function capacityOptions(components: readonly CatalogEntry[], nodes: NodeCounts): CapacityOptions {
  return {
    addons: components.filter((c) => c.layer === "addon").map((c) => c.name),
    alternatives: components.flatMap((c) => {
      const key = CHOICE_KEYS.find(([choice]) => choice === c.choice)?.[1];
      if (!c.choice || !key) return [];
      return choicesOf(c.choice)
        .filter((name) => name !== c.name)
        .map((name) => ({ key, replaces: c.name, requests: platformRequests([catalogEntry(name)!], nodes)[0] }));
    }),
  };
}

/** Nodes that take pods (an etcd-only member takes none); small nodes are the tainted ones. */
export function nodeCounts(all: readonly CapacityNode[]): NodeCounts {
  const nodes = all.filter((n) => n.role !== "etcd");
  return {
    all: nodes.length,
    general: nodes.filter((n) => !n.small).length,
    ingress: nodes.filter((n) => n.ingress).length,
    small: nodes.filter((n) => n.small).length,
    withDataVolume: nodes.filter((n) => n.dataGb !== undefined).length,
  };
}

/** Memory pods may request: the general nodes together, and each small node, after kubelet reservations. */
function allocatable(nodes: readonly CapacityNode[]) {
  const general = nodes.filter((n) => !n.small && n.role !== "etcd");
  const small = nodes.filter((n) => n.small && n.role !== "etcd");
  return {
    generalMi: general.reduce((sum, n) => sum + reservations(n.memoryGb, n.role).allocatableMiB, 0),
    smallMiPerNode: Math.min(reservations(1).allocatableMiB, ...small.map((n) => reservations(n.memoryGb).allocatableMiB)),
  };
}

/** The smallest data disk, or the smallest system disk of a general node less 30 GB for the OS and images. */
function platformDiskGi(nodes: readonly CapacityNode[]): number {
  const data = nodes.flatMap((n) => (n.dataGb !== undefined ? [n.dataGb] : []));
  if (data.length > 0) return Math.min(...data);
  return Math.max(10, Math.min(...nodes.filter((n) => !n.small).map((n) => n.diskGb)) - 30);
}
