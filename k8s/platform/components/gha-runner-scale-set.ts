/** The gha-runner-scale-set component: Ephemeral GitHub Actions runners for a repository or organization (set githubConfigUrl and githubConfigSecret). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const GHA_RUNNER_SCALE_SET: CatalogEntry = {
  name: "gha-runner-scale-set",
  layer: "addon",
  description: "Ephemeral GitHub Actions runners for a repository or organization (set githubConfigUrl and githubConfigSecret)",
  helm: {
    chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set",
    repo: "",
    version: "0.14.2",
  },
  namespace: "arc-runners",
  needs: ["gha-runner-scale-set-controller"],
  arch: BOTH,
  onSmallNodes: false,
  // Runners are created on demand (minRunners 0); the steady pod is the listener.
  workloads: { runner: { resources: res(500, 1024, 2000, 2048), replicas: 0 } },
  values: (_ctx, w) => ({
    minRunners: 0,
    maxRunners: 2,
    template: {
      spec: {
        containers: [
          {
            name: "runner",
            image: "ghcr.io/actions/actions-runner:2.335.1",
            command: ["/home/runner/run.sh"],
            resources: w.runner.resources,
          },
        ],
      },
    },
  }),
  requiredValues: ["githubConfigUrl", "githubConfigSecret"],
};
