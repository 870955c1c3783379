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

/*
 * Kubernetes' own rules for label keys and values, taint keys and values, as the API server
 * applies them (k8s.io/apimachinery pkg/util/validation/validation.go: IsQualifiedName,
 * IsValidLabelValue, IsDNS1123Subdomain; v0.34): each returns what is wrong, or undefined.
 */
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** IsQualifiedName: an optional DNS-subdomain prefix (at most 253) and `/`, then a name of 1-63. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  const name = parts[parts.length - 1];
  if (parts.length > 2) return "must be a qualified name: an optional prefix and '/', then a name";
  if (parts.length === 2) {
    const prefix = parts[0];
    if (prefix.length === 0) return "must have a non-empty prefix before '/'";
    if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))
      return "must have a prefix that is a lowercase DNS subdomain (at most 253 characters)";
  }
  if (name.length === 0 || name.length > 63) return "must have a name part of 1-63 characters";
  if (!QUALIFIED_NAME_PART.test(name))
    return "must have a name part of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric";
  return undefined;
}

/** IsValidLabelValue: empty, or at most 63 alphanumerics, '-', '_', '.', alphanumeric at both ends. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return "must be at most 63 characters";
  if (!LABEL_VALUE.test(value))
    return "must be empty or alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric (no spaces or newlines)";
  return undefined;
}

/** Prefixes that are not the stack's: Kubernetes' own and the program's. */
export const RESERVED_LABEL_PREFIXES = ["kubernetes.io", "k8s.io", LABEL_PREFIX] as const;

/** A key whose prefix is Kubernetes' (kubernetes.io, k8s.io and their subdomains) or the program's. */
export function reservedPrefix(key: string): string | undefined {
  if (!key.includes("/")) return undefined;
  const prefix = key.split("/")[0];
  return RESERVED_LABEL_PREFIXES.find((r) => prefix === r || prefix.endsWith(`.${r}`));
}

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
