/** The rook-ceph component: Rook operator for Ceph on spare disks (the CephCluster itself comes from GitOps). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const ROOK_CEPH: CatalogEntry = {
  name: "rook-ceph",
  layer: "addon",
  description: "Rook operator for Ceph on spare disks (the CephCluster itself comes from GitOps)",
  helm: { chart: "rook-ceph", repo: "https://charts.rook.io/release", version: "v1.20.6" },
  namespace: "rook-ceph",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  hostAccess: ["the operator starts privileged Ceph daemons (OSDs on raw disks, CSI plugins)"],
  workloads: { operator: { resources: res(100, 128, 1000, 512), replicas: 1 } },
  values: (_ctx, w) => ({ resources: w.operator.resources }),
};
