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

/** What a stack could change to need less memory: its addons, and the other picks of its choices. */
export interface CapacityOptions {
  /** Enabled components the stack can turn off (its addons). */
  readonly addons: readonly string[];
  /** Each other pick of a choice the stack made: the key that picks it, and what it would request instead of `replaces`. */
  readonly alternatives: readonly { readonly key: string; readonly replaces: string; readonly requests: ComponentRequests }[];
}

type Pool = "general" | "small";
const inPool = (r: ComponentRequests, pool: Pool) => (pool === "general" ? r.generalMemoryMi : r.smallMemoryMiPerNode);

/** Only what would lower the exceeded pool's requests: enabled addons that request memory there, lighter picks, more memory. */
export function capacityRemedies(
  rows: readonly ComponentRequests[],
  options: CapacityOptions,
  pool: Pool,
  shortMi: number,
): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const steps: string[] = [];
  const addons = options.addons.filter((a) => inPool(byName.get(a)!, pool) > 0);
  if (addons.length > 0)
    steps.push(`remove addons you can do without (${addons.map((a) => `${a}: ${inPool(byName.get(a)!, pool)} Mi`).join(", ")})`);
  for (const alt of options.alternatives) {
    const saves = inPool(byName.get(alt.replaces)!, pool) - inPool(alt.requests, pool);
    if (saves > 0) steps.push(`set ${alt.key}: ${alt.requests.name} instead of ${alt.replaces} (${saves} Mi less)`);
  }
  const more =
    pool === "general"
      ? `give the general nodes ${shortMi} Mi more allocatable memory (a larger memoryGb, or another node)`
      : `use machines larger than the small ones (each needs ${shortMi} Mi more)`;
  if (steps.length === 0) return `No addon is on and every choice is already its lightest pick: ${more}.`;
  return `To fit, ${shortMi} Mi must go: ${steps.join("; ")}; or ${more}.`;
}

export class PlatformCapacityError extends Error {
  constructor(table: string, what: string, remedies: string) {
    super(
      `The enabled platform components request more memory than the nodes can give (${what}); nothing was created.\n${table}\n${remedies}`,
    );
    this.name = "PlatformCapacityError";
  }
}

/** Refuses a platform whose requests exceed the nodes' allocatable memory (after kubelet reservations). */
export function checkPlatformCapacity(
  rows: readonly ComponentRequests[],
  allocatable: { generalMi: number; smallMiPerNode: number },
  options: CapacityOptions = { addons: [], alternatives: [] },
): void {
  const general = rows.reduce((s, r) => s + r.generalMemoryMi, 0);
  const small = rows.reduce((s, r) => s + r.smallMemoryMiPerNode, 0);
  if (general > allocatable.generalMi)
    throw new PlatformCapacityError(
      formatRequestsTable(rows),
      `${general} Mi of ${allocatable.generalMi} Mi allocatable on the general nodes`,
      capacityRemedies(rows, options, "general", general - allocatable.generalMi),
    );
  if (small > allocatable.smallMiPerNode) {
    throw new PlatformCapacityError(
      formatRequestsTable(rows),
      `${small} Mi of ${allocatable.smallMiPerNode} Mi allocatable on each small node`,
      capacityRemedies(rows, options, "small", small - allocatable.smallMiPerNode),
    );
  }
}
