/** The distributions by name: k3s (the default), kubeadm and RKE2, all behind one interface. */
import { Distribution, DistributionName } from "./distribution";
import { KUBEADM } from "./kubeadm";
import { K3S, RKE2 } from "./rancher";

export type { ClusterFacts, Distribution, EtcdBackup, JoinMaterial, NodeFacts, Restored } from "./distribution";
export { DISTRIBUTION_NAMES } from "./distribution";
export type { DistributionName } from "./distribution";
export { KUBEADM } from "./kubeadm";
export { K3S, RKE2 } from "./rancher";

export const DISTRIBUTIONS: Readonly<Record<DistributionName, Distribution>> = { k3s: K3S, kubeadm: KUBEADM, rke2: RKE2 };
