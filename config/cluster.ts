/** The cluster: its name and domain, the Kubernetes distribution and its release, node kernels. */
import { z } from "zod";
import { DISTRIBUTION_NAMES, DISTRIBUTIONS } from "../k8s/bootstrap/distributions";
import { DRAIN_TIMEOUT_SECONDS } from "../k8s/bootstrap/rollout";
import { allowed, Bad, bool, defaultClusterName, str, Values } from "./keys";

export const CLUSTER_KEYS = {
  clusterName: str(
    z
      .string()
      .regex(/^([a-z][a-z0-9-]{0,21})?$/, "must be a lowercase DNS label of at most 22 characters starting with a letter")
      .default(""),
    "Name prefix of every resource and of the cluster; empty means oci-k8s-<stack>.",
  ),
  clusterDomain: str(
    z
      .string()
      .regex(/^((?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$|^$/, "must be a DNS name like dev.example.com, or empty")
      .default(""),
    "DNS zone for ingress hostnames and certificates; empty means <ingress IP>.sslip.io.",
  ),
  distribution: str(
    z.enum(DISTRIBUTION_NAMES, { error: allowed(DISTRIBUTION_NAMES) }).default("k3s"),
    "Kubernetes distribution: k3s, kubeadm or rke2 (sets the ports opened between nodes).",
  ),
  distributionVersion: str(
    z.string().default(""),
    "Exact release of the distribution (v1.34.9+k3s1, v1.34.9+rke2r1, v1.34.4); empty means the version this program pins.",
  ),
  kernelHold: bool(
    false,
    "Hold every node's kernel packages at the kernel it runs, so unattended upgrades leave them alone; false lets kernel updates in.",
  ),
  containerHosts: bool(
    false,
    "kubeadm on hosts that are system containers (LXC/LXD, systemd-nspawn) sharing their parent's kernel and cgroup v1 hierarchy: kubelet and containerd use the cgroupfs driver, each kubelet a cgroup root of its own (/oci-k8s-<host>), so no two nodes manage the same pod cgroups; containerd gives no container an OOM score below its own (restrict_oom_score_adj: a container may lack CAP_SYS_RESOURCE); kube-proxy leaves nf_conntrack_max to the parent (conntrack.maxPerCore 0); the parent sets the kernel values the kubelet checks (vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1).",
  ),
  rolloutForce: bool(
    false,
    "Let a rolling change (upgrade, resize) go on past a node whose drain does not finish within rolloutDrainTimeout (the pods a PodDisruptionBudget protects restart with the node) or whose storage (Ceph, Longhorn) is not healthy again; false stops the rollout there, the node cordoned.",
  ),
  rolloutDrainTimeout: {
    schema: z
      .int({ error: "must be a whole number of seconds" })
      .min(10, "must be at least 10 seconds")
      .max(86_400, "must be at most 86400 seconds (a day)")
      .default(DRAIN_TIMEOUT_SECONDS),
    type: "integer" as const,
    description:
      "Seconds a rolling change (upgrade, resize) waits for a node's drain (kubectl drain --timeout, like Kubespray's drain_timeout) before it stops there, the node cordoned (or goes on, with rolloutForce).",
  },
};

export type ClusterValues = Values<typeof CLUSTER_KEYS>;

export function checkCluster(c: ClusterValues, bad: Bad): void {
  const dist = DISTRIBUTIONS[c.distribution];
  if (c.distributionVersion && !dist.versionPattern.test(c.distributionVersion)) {
    bad("distributionVersion", c.distributionVersion, `is not a ${c.distribution} release like ${dist.defaultVersion}`);
  }
  if (c.containerHosts && c.distribution !== "kubeadm") {
    bad("containerHosts", true, `is only for distribution kubeadm, not ${c.distribution}`);
  }
}

export function resolveCluster(c: ClusterValues, stack: string) {
  return {
    clusterName: c.clusterName || defaultClusterName(stack),
    clusterDomain: c.clusterDomain,
    distribution: c.distribution,
    distributionVersion: c.distributionVersion || DISTRIBUTIONS[c.distribution].defaultVersion,
    kernelHold: c.kernelHold,
    containerHosts: c.containerHosts,
    rolloutForce: c.rolloutForce,
    rolloutDrainTimeout: c.rolloutDrainTimeout,
  };
}
