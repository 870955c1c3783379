/** PodSecurity admission levels of the platform's namespaces (Kubernetes Pod Security Standards). */
import type { CatalogEntry } from "./component";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * The PodSecurity level a namespace enforces: privileged only where an enabled component's pods
 * take from the node (hostAccess), baseline everywhere else, so a cluster that enforces baseline
 * (RKE2's CIS profile) runs the platform, and nothing else gets host access by sharing a namespace.
 */
export function podSecurityLevel(namespace: string, components: readonly CatalogEntry[]): PodSecurityLevel {
  return components.some((c) => c.namespace === namespace && (c.hostAccess ?? []).length > 0) ? "privileged" : "baseline";
}

/** PodSecurity admission's namespace labels: the level enforced, and a warning (and audit) one level stricter. */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
  const stricter: PodSecurityLevel = level === "privileged" ? "baseline" : "restricted";
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/warn": stricter,
    "pod-security.kubernetes.io/audit": stricter,
  };
}
