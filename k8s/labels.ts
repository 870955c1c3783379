/** Kubernetes labels and taints of a node, from what the infrastructure knows of it. */
import type { NodeRole } from "./bootstrap/types";

export const LABEL_PREFIX = "oci-k8s.io";
export const ROLE_LABEL = `${LABEL_PREFIX}/role`;
export const INGRESS_LABEL = `${LABEL_PREFIX}/ingress`;
export const MICRO_LABEL = `${LABEL_PREFIX}/micro`;

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** Micro nodes (1 GB) take only pods that tolerate this taint: amd64-only images and tiny jobs. */
export const MICRO_TAINT: Taint = { key: MICRO_LABEL, value: "true", effect: "NoSchedule" };

/**
 * An etcd-only node takes no pods at all (NoExecute): the taint k3s documents for etcd-only
 * servers. The platform tolerates only the micro taint, so nothing of it lands there.
 */
export const ETCD_TAINT: Taint = { key: "node-role.kubernetes.io/etcd", value: "true", effect: "NoExecute" };

export interface LabelledNode {
  readonly role: NodeRole;
  readonly arch: string;
  readonly shape: string;
  readonly ingress: boolean;
  readonly micro: boolean;
}

export function nodeLabels(n: LabelledNode): Record<string, string> {
  return {
    "kubernetes.io/arch": n.arch,
    "node.kubernetes.io/instance-type": n.shape,
    [ROLE_LABEL]: n.role,
    ...(n.ingress ? { [INGRESS_LABEL]: "true" } : {}),
    ...(n.micro ? { [MICRO_LABEL]: "true" } : {}),
  };
}

export function nodeTaints(n: LabelledNode): Taint[] {
  return [...(n.micro ? [MICRO_TAINT] : []), ...(n.role === "etcd" ? [ETCD_TAINT] : [])];
}

/** `key=value:Effect`, the form kubelet and kubectl take. */
export function formatTaint(t: Taint): string {
  return `${t.key}=${t.value}:${t.effect}`;
}

/** Lets a pod onto the tainted micro nodes. */
export const MICRO_TOLERATION = { key: MICRO_TAINT.key, operator: "Equal", value: MICRO_TAINT.value, effect: MICRO_TAINT.effect };
/** Keeps a pod on the nodes the load balancer sends web traffic to. */
export const INGRESS_NODE_SELECTOR = { [INGRESS_LABEL]: "true" };
