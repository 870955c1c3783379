/** What the enabled components ask of the nodes' memory, and the refusal when it does not fit. */
import { formatTable } from "../../table";
import type { CatalogEntry } from "./component";
import { memoryMiB, NodeCounts, podCount } from "./resources";

export interface ComponentRequests {
  readonly name: string;
  readonly version: string;
  /** Memory requested on the general nodes together, and on each small (tainted) node, in MiB. */
  readonly generalMemoryMi: number;
  readonly smallMemoryMiPerNode: number;
}

/** What each component asks of the nodes: DaemonSets that run on small nodes put one pod on each. */
export function platformRequests(components: readonly CatalogEntry[], nodes: NodeCounts): ComponentRequests[] {
  return components.map((c) => {
    let general = 0;
    let small = 0;
    for (const w of Object.values(c.workloads)) {
      const perPod = memoryMiB(w.resources);
      if (w.replicas === "allNodes" && c.onSmallNodes) {
        general += perPod * (nodes.all - nodes.small);
        small += nodes.small > 0 ? perPod : 0;
      } else {
        general += perPod * podCount(w.replicas, nodes);
      }
    }
    return { name: c.name, version: c.helm?.version ?? "objects", generalMemoryMi: general, smallMemoryMiPerNode: small };
  });
}

export function formatRequestsTable(rows: readonly ComponentRequests[]): string {
  const lines = [
    ["component", "version", "memory (general nodes)", "memory (per small node)"],
    ...rows.map((r) => [r.name, r.version, `${r.generalMemoryMi} Mi`, `${r.smallMemoryMiPerNode} Mi`]),
  ];
  const total = rows.reduce((s, r) => s + r.generalMemoryMi, 0);
  lines.push(["total", "", `${total} Mi`, `${rows.reduce((s, r) => s + r.smallMemoryMiPerNode, 0)} Mi`]);
  return formatTable(lines, 2);
}

export class PlatformCapacityError extends Error {
  constructor(table: string, what: string) {
    super(
      `The enabled platform components request more memory than the nodes can give (${what}); nothing was created.\n${table}\nDisable addons, choose victoria-metrics-k8s-stack, or give the nodes more memory.`,
    );
    this.name = "PlatformCapacityError";
  }
}

/** Refuses a platform whose requests exceed the nodes' allocatable memory (after kubelet reservations). */
export function checkPlatformCapacity(
  rows: readonly ComponentRequests[],
  allocatable: { generalMi: number; smallMiPerNode: number },
): void {
  const general = rows.reduce((s, r) => s + r.generalMemoryMi, 0);
  const small = rows.reduce((s, r) => s + r.smallMemoryMiPerNode, 0);
  if (general > allocatable.generalMi)
    throw new PlatformCapacityError(
      formatRequestsTable(rows),
      `${general} Mi of ${allocatable.generalMi} Mi allocatable on the general nodes`,
    );
  if (small > allocatable.smallMiPerNode) {
    throw new PlatformCapacityError(
      formatRequestsTable(rows),
      `${small} Mi of ${allocatable.smallMiPerNode} Mi allocatable on each small node`,
    );
  }
}
