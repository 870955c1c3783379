/** The vocabulary of a Kubernetes node that every part of k8s/ shares: its role and its taints. */

/**
 * What a node is: a `server` (control plane and etcd member, also runs workloads), an `agent`
 * (workloads only), or `etcd` (k3s and RKE2: an etcd member with no API server, scheduler,
 * controller manager or workloads, the third vote of a two-server control plane).
 */
export const NODE_ROLES = ["server", "agent", "etcd"] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}
