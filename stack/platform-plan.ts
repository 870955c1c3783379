/**
 * The platform a stack asks for, checked against its nodes before anything is registered: the
 * enabled catalog entries, the nodes they are counted over, and whether their memory requests fit
 * what the kubelets leave allocatable.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeSpec, StackConfig } from "../config";
import { reservations } from "../k8s/bootstrap/reserved";
import { catalogEntry, CatalogEntry } from "../k8s/platform/catalog";
import { checkPlatformCapacity, formatRequestsTable, platformRequests } from "../k8s/platform/capacity";
import type { NodeCounts } from "../k8s/platform/resources";

export interface PlatformPlan {
  readonly components: readonly CatalogEntry[];
  readonly nodes: NodeCounts;
  /** What the platform's volumes may take of one node's disk, in GiB. */
  readonly diskGi: number;
}

export function planPlatform(config: StackConfig): PlatformPlan {
  const components = config.components.map((name) => catalogEntry(name)!);
  const nodes = nodeCounts(config.nodes);
  const requests = platformRequests(components, nodes);
  checkPlatformCapacity(requests, allocatable(config.nodes));
  pulumi.log.info(`Platform memory requests:\n${formatRequestsTable(requests)}`);
  return { components, nodes, diskGi: platformDiskGi(config.nodes) };
}

/** Nodes that take pods (an etcd-only member takes none); micro nodes are the small, tainted ones. */
export function nodeCounts(all: readonly NodeSpec[]): NodeCounts {
  const nodes = all.filter((n) => n.role !== "etcd");
  return {
    all: nodes.length,
    general: nodes.filter((n) => !n.micro).length,
    ingress: nodes.filter((n) => n.ingress).length,
    small: nodes.filter((n) => n.micro).length,
    withDataVolume: nodes.filter((n) => n.dataVolumeGb !== undefined).length,
  };
}

/** Memory pods may request: the A1 nodes together, and each micro node, after kubelet reservations. */
function allocatable(nodes: readonly NodeSpec[]) {
  const general = nodes.filter((n) => !n.micro && n.role !== "etcd");
  return {
    generalMi: general.reduce((sum, n) => sum + reservations(n.memoryGb, n.role).allocatableMiB, 0),
    smallMiPerNode: reservations(1).allocatableMiB,
  };
}

/** The smallest data volume, or the boot volume less 30 GB for the OS and images. */
function platformDiskGi(nodes: readonly NodeSpec[]): number {
  const data = nodes.flatMap((n) => (n.dataVolumeGb !== undefined ? [n.dataVolumeGb] : []));
  if (data.length > 0) return Math.min(...data);
  return Math.max(10, Math.min(...nodes.filter((n) => !n.micro).map((n) => n.bootVolumeGb)) - 30);
}
