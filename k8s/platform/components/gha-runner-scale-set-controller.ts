/** The gha-runner-scale-set-controller component: GitHub Actions Runner Controller (runner scale sets). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const GHA_RUNNER_SCALE_SET_CONTROLLER: CatalogEntry = {
  name: "gha-runner-scale-set-controller",
  layer: "addon",
  description: "GitHub Actions Runner Controller (runner scale sets)",
  helm: {
    chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set-controller",
    repo: "",
    version: "0.14.2",
  },
  namespace: "arc-systems",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { controller: { resources: res(20, 64, 500, 192), replicas: 1 } },
  values: (_ctx, w) => ({ resources: w.controller.resources }),
};
