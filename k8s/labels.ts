/** Kubernetes labels and taints of a node, from plain facts about it. */
import type { NodeRole, Taint } from "./node";

export type { Taint } from "./node";

export const LABEL_PREFIX = "oci-k8s.io";
export const ROLE_LABEL = `${LABEL_PREFIX}/role`;
export const INGRESS_LABEL = `${LABEL_PREFIX}/ingress`;
/** Marks a small (about 1 GB) node; the key keeps the name it was first given for Oracle's micro shape. */
export const SMALL_NODE_LABEL = `${LABEL_PREFIX}/micro`;

/** Small nodes take only pods that tolerate this taint: components marked to run there, tiny jobs. */
export const SMALL_NODE_TAINT: Taint = { key: SMALL_NODE_LABEL, value: "true", effect: "NoSchedule" };

/**
 * An etcd-only node takes no pods at all (NoExecute): the taint k3s documents for etcd-only
 * servers. The platform tolerates only the small-node taint, so nothing of it lands there.
 */
export const ETCD_TAINT: Taint = { key: "node-role.kubernetes.io/etcd", value: "true", effect: "NoExecute" };

export interface LabelledNode {
  readonly role: NodeRole;
  readonly arch: string;
  /** The machine type, as `node.kubernetes.io/instance-type` (a cloud's shape name); none on existing machines. */
  readonly instanceType?: string;
  readonly ingress: boolean;
  /** A small node: tainted so that only what may run there does. */
  readonly small: boolean;
}

export function nodeLabels(n: LabelledNode): Record<string, string> {
  return {
    "kubernetes.io/arch": n.arch,
    ...(n.instanceType ? { "node.kubernetes.io/instance-type": n.instanceType } : {}),
    [ROLE_LABEL]: n.role,
    ...(n.ingress ? { [INGRESS_LABEL]: "true" } : {}),
    ...(n.small ? { [SMALL_NODE_LABEL]: "true" } : {}),
  };
}

export function nodeTaints(n: LabelledNode): Taint[] {
  return [...(n.small ? [SMALL_NODE_TAINT] : []), ...(n.role === "etcd" ? [ETCD_TAINT] : [])];
}

/** `key=value:Effect`, the form kubelet and kubectl take. */
export function formatTaint(t: Taint): string {
  return `${t.key}=${t.value}:${t.effect}`;
}

/** Lets a pod onto the tainted small nodes. */
export const SMALL_NODE_TOLERATION = {
  key: SMALL_NODE_TAINT.key,
  operator: "Equal",
  value: SMALL_NODE_TAINT.value,
  effect: SMALL_NODE_TAINT.effect,
};
/** Keeps a pod on the nodes the load balancer sends web traffic to. */
export const INGRESS_NODE_SELECTOR = { [INGRESS_LABEL]: "true" };
