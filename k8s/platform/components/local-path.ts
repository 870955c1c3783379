/** The local-path component: Node-local persistent volumes on the data volume (rancher/local-path-provisioner v0.0.37). */
import { BOTH, type CatalogEntry } from "../component";
import { LOCAL_PATH_CLASS, LocalPathStorage } from "../local-path";
import { podSecurityLabels, podSecurityLevel } from "../pod-security";
import { res } from "../resources";

export const LOCAL_PATH: CatalogEntry = {
  name: "local-path",
  provides: { storageClass: LOCAL_PATH_CLASS },
  layer: "base",
  choice: "storage",
  description: "Node-local persistent volumes on the data volume (rancher/local-path-provisioner v0.0.37)",
  namespace: "local-path-storage",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  hostAccess: ["helper pods create and delete volume directories through hostPath"],
  workloads: { provisioner: { resources: res(10, 32, 200, 128), replicas: 1 } },
  objects: ({ entry, ctx, opts }) =>
    new LocalPathStorage(
      "local-path",
      {
        namespace: entry.namespace,
        path: `${ctx.dataPath}/local-path`,
        resources: entry.workloads.provisioner.resources,
        isDefault: true,
        namespaceLabels: podSecurityLabels(podSecurityLevel(entry.namespace, [entry])),
      },
      opts,
    ),
  values: () => ({}),
};
