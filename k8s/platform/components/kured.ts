/** The kured component: Reboots nodes one at a time after unattended upgrades ask for it. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const KURED: CatalogEntry = {
  name: "kured",
  layer: "addon",
  description: "Reboots nodes one at a time after unattended upgrades ask for it",
  helm: { chart: "kured", repo: "https://kubereboot.github.io/charts", version: "6.1.0" },
  namespace: "kube-system",
  needs: [],
  arch: BOTH,
  onSmallNodes: true,
  hostAccess: ["privileged with hostPID to reboot the node (its chart's defaults)"],
  workloads: { kured: { resources: res(5, 16, 100, 48), replicas: "allNodes" } },
  values: (_ctx, w, place) => ({
    resources: w.kured.resources,
    tolerations: place.tolerations,
    configuration: { period: "1h0m0s", startTime: "02:00", endTime: "05:00", timeZone: "UTC" },
  }),
};
