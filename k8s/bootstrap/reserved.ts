/**
 * Kubelet reservations: what system daemons and Kubernetes' own agents keep of each node, so a
 * busy node still has room for sshd, the kubelet and the container runtime (story 2: on a 1 GB
 * node the control plane ate 40 % and rolling updates could not schedule).
 */
export interface Reservations {
  readonly systemReserved: string;
  readonly kubeReserved: string;
  readonly evictionHard: string;
  /** Memory left for pods, in MiB. */
  readonly allocatableMiB: number;
}

interface Tier {
  readonly upToGb: number;
  readonly systemMiB: number;
  readonly kubeMiB: number;
  readonly evictionMiB: number;
}

/** By node memory: small nodes keep less in absolute terms but a larger share. */
const TIERS: readonly Tier[] = [
  { upToGb: 1, systemMiB: 128, kubeMiB: 128, evictionMiB: 100 },
  { upToGb: 8, systemMiB: 256, kubeMiB: 384, evictionMiB: 200 },
  { upToGb: Infinity, systemMiB: 384, kubeMiB: 640, evictionMiB: 300 },
];

/**
 * An etcd-only member runs no pods: what the kubelet would offer them is kept for etcd, the
 * distribution's supervisor and the kubelet itself (64 MiB stay allocatable, for nothing to
 * be refused by a node that reports no memory at all).
 */
const ETCD_ALLOCATABLE_MIB = 64;

export function reservations(memoryGb: number, role: "server" | "agent" | "etcd" = "agent"): Reservations {
  const found = TIERS.find((t) => memoryGb <= t.upToGb)!;
  const tier =
    role === "etcd" ? { ...found, kubeMiB: memoryGb * 1024 - found.systemMiB - found.evictionMiB - ETCD_ALLOCATABLE_MIB } : found;
  return {
    systemReserved: `cpu=100m,memory=${tier.systemMiB}Mi`,
    kubeReserved: `cpu=100m,memory=${tier.kubeMiB}Mi`,
    evictionHard: `memory.available<${tier.evictionMiB}Mi,nodefs.available<10%,imagefs.available<15%`,
    allocatableMiB: memoryGb * 1024 - tier.systemMiB - tier.kubeMiB - tier.evictionMiB,
  };
}

/**
 * RKE2 runs etcd (512Mi requested) and kube-proxy (128Mi) as static pods on an etcd-only member
 * (rancher/rke2 v1.34.9+rke2r1 pkg/podtemplate/config.go, defaultResources), so their requests
 * must fit what the kubelet offers pods, beside Canal and RKE2's own supervisor: 2 GB at least.
 */
export const RKE2_ETCD_MIN_GB = 2;

/** Why a node of `role` with `memoryGb` cannot run the distribution's etcd member, or undefined. */
export function refuseEtcdMember(distribution: string, role: string, memoryGb: number): string | undefined {
  if (distribution !== "rke2" || role !== "etcd" || memoryGb >= RKE2_ETCD_MIN_GB) return undefined;
  const left = reservations(memoryGb).allocatableMiB;
  return `needs ${RKE2_ETCD_MIN_GB} GB or more with rke2: RKE2 runs etcd as a static pod (512 MiB requested) beside kube-proxy (128 MiB), and a ${memoryGb} GB node leaves ${left} MiB for pods after its reservations; use k3s (etcd inside its own process), or a larger node`;
}

/** Ubuntu's resolver stub (127.0.0.53) loops inside pods; the kubelet hands them the real upstream (the VCN resolver on Oracle Cloud). */
export const UPSTREAM_RESOLV_CONF = "/run/systemd/resolve/resolv.conf";
