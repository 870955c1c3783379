/** CPU/memory requests and limits of the platform's workloads, and how many pods each runs. */

export interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

/** requests and limits: cpu in millicores, memory in MiB. */
export function res(cpuM: number, memoryMi: number, cpuLimitM: number, memoryLimitMi: number): Resources {
  return {
    requests: { cpu: `${cpuM}m`, memory: `${memoryMi}Mi` },
    limits: { cpu: `${cpuLimitM}m`, memory: `${memoryLimitMi}Mi` },
  };
}

export function memoryMiB(r: Resources): number {
  return Number(/^(\d+)Mi$/.exec(r.requests.memory)![1]);
}

/**
 * How many pods a workload runs: a fixed count, one per node (a DaemonSet that runs on small
 * nodes too), one per general node, or one per ingress node.
 */
export type Replicas = number | "allNodes" | "generalNodes" | "ingressNodes";

export interface Workload {
  readonly resources: Resources;
  readonly replicas: Replicas;
  /** Another component's release that carries this workload (a sidecar it adds there). */
  readonly installedWith?: string;
}

export interface NodeCounts {
  readonly all: number;
  /** Nodes that take any workload (not tainted small). */
  readonly general: number;
  readonly ingress: number;
  /** Small nodes, tainted so that only workloads that may run there do. */
  readonly small: number;
  /** Nodes with a data volume. */
  readonly withDataVolume: number;
}

export function podCount(replicas: Replicas, nodes: NodeCounts): number {
  switch (replicas) {
    case "allNodes":
      return nodes.all;
    case "generalNodes":
      return nodes.general;
    case "ingressNodes":
      return nodes.ingress;
    default:
      return replicas;
  }
}

/** A component's workloads, by name. */
export type Workloads = Readonly<Record<string, Workload>>;
