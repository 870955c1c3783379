/** The longhorn component: Replicated block storage over the nodes' data volumes (needs data volumes on two or more nodes). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const LONGHORN: CatalogEntry = {
  name: "longhorn",
  provides: { storageClass: "longhorn" },
  layer: "base",
  choice: "storage",
  description: "Replicated block storage over the nodes' data volumes (needs data volumes on two or more nodes)",
  helm: { chart: "longhorn", repo: "https://charts.longhorn.io", version: "1.12.1" },
  namespace: "longhorn-system",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  hostAccess: ["privileged manager, CSI plugin and instance managers on every node (its chart's defaults)"],
  workloads: { manager: { resources: res(100, 256, 1000, 512), replicas: "generalNodes" } },
  values: (ctx, w) => {
    const replicas = Math.min(3, ctx.nodes.withDataVolume);
    return {
      defaultSettings: { defaultDataPath: `${ctx.dataPath}/longhorn`, defaultReplicaCount: replicas },
      persistence: { defaultClass: true, defaultClassReplicaCount: replicas },
      longhornManager: { resources: w.manager.resources },
      // One of each CSI sidecar and UI pod: a small cluster does not need three of each.
      csi: { attacherReplicaCount: 1, provisionerReplicaCount: 1, resizerReplicaCount: 1, snapshotterReplicaCount: 1 },
      longhornUI: { replicas: 1 },
    };
  },
};
