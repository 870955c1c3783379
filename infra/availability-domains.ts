/** Placement of nodes over the region's availability domains. */

/** Region ADs ordered by their number (Oracle does not promise an order). */
export function sortAvailabilityDomains(names: readonly string[]): string[] {
  const number = (n: string) => Number(/-AD-(\d+)$/.exec(n)?.[1] ?? 0);
  return [...names].sort((a, b) => number(a) - number(b));
}

/**
 * The AD of the node at `index`: a full AD name is taken as is, a number picks that AD of the
 * region, and a node with neither is spread round-robin over `spread` (AD numbers; empty means
 * every AD). Throws with the node's name when the region has no such AD.
 */
export function placeNode(
  node: { readonly name: string; readonly availabilityDomain?: number | string },
  index: number,
  regionAds: readonly string[],
  spread: readonly number[],
): string {
  const ads = sortAvailabilityDomains(regionAds);
  const byNumber = (n: number, key: string): string => {
    if (n < 1 || n > ads.length) {
      throw new Error(
        `node ${node.name}: ${key} asks for availability domain ${n}, but this region has ${ads.length} (${ads.join(", ")}).`,
      );
    }
    return ads[n - 1];
  };
  if (typeof node.availabilityDomain === "string") return node.availabilityDomain;
  if (typeof node.availabilityDomain === "number") return byNumber(node.availabilityDomain, "availabilityDomain");
  const pool = spread.length > 0 ? spread : ads.map((_, i) => i + 1);
  return byNumber(pool[index % pool.length], "availabilityDomains");
}
