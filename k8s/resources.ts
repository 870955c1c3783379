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
 * How many pods a workload runs: a fixed count, one per node (a DaemonSet that tolerates micro
 * nodes), one per A1 node, or one per ingress node.
 */
export type Replicas = number | "allNodes" | "a1Nodes" | "ingressNodes";

export interface Workload {
  readonly resources: Resources;
  readonly replicas: Replicas;
  /** Another component's release that carries this workload (a sidecar it adds there). */
  readonly installedWith?: string;
}

export interface NodeCounts {
  readonly all: number;
  readonly a1: number;
  readonly ingress: number;
  readonly micro: number;
  /** Nodes with a data volume. */
  readonly withDataVolume: number;
}

export function podCount(replicas: Replicas, nodes: NodeCounts): number {
  switch (replicas) {
    case "allNodes":
      return nodes.all;
    case "a1Nodes":
      return nodes.a1;
    case "ingressNodes":
      return nodes.ingress;
    default:
      return replicas;
  }
}
