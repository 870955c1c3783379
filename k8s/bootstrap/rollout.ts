/**
 * What an update changes on a running cluster, from what the last update left running: a new
 * version, or nodes whose machine (a description of its size, whatever the platform calls it)
 * changes in place. Either makes the bootstrap roll node by node, each drained before it changes
 * (see Cluster and rollout.sh).
 */

/** Seconds a node's drain may take before the rollout stops there (the stack's rolloutDrainTimeout unless set). */
export const DRAIN_TIMEOUT_SECONDS = 600;

/** A node and its machine as the rollout records and compares it, e.g. "VM.Standard.A1.Flex 2 OCPU 12 GB". */
export interface MachineSpec {
  readonly name: string;
  readonly machine: string;
}

/** What the stack's last update left running. */
export interface PreviousCluster {
  readonly version: string;
  readonly nodes: readonly MachineSpec[];
}

export interface Rollout {
  /** The version change, if any. */
  readonly upgrade?: { readonly from: string; readonly to: string };
  /** Existing nodes whose machine changes in place (a resize reboots them). */
  readonly resized: readonly { readonly name: string; readonly from: string; readonly to: string }[];
}

export function planRollout(previous: PreviousCluster | undefined, version: string, nodes: readonly MachineSpec[]): Rollout {
  if (!previous) return { resized: [] };
  const before = new Map(previous.nodes.map((n) => [n.name, n.machine]));
  const resized = nodes.flatMap((n) => {
    const from = before.get(n.name);
    const to = n.machine;
    return from !== undefined && from !== to ? [{ name: n.name, from, to }] : [];
  });
  return { ...(previous.version !== version ? { upgrade: { from: previous.version, to: version } } : {}), resized };
}

/** Whether nodes must take their turns one at a time. */
export const isRolling = (r: Rollout): boolean => r.upgrade !== undefined || r.resized.length > 0;

/** One line per change, for the update's log. */
export function describeRollout(r: Rollout): string[] {
  return [
    ...(r.upgrade ? [`Kubernetes ${r.upgrade.from} -> ${r.upgrade.to}`] : []),
    ...r.resized.map((n) => `${n.name}: ${n.from} -> ${n.to}`),
  ];
}
