/** The alloy component: Log shipping: Grafana Alloy on every node tails pod logs into Loki. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";
import { alloyValues } from "../values/alloy";

export const ALLOY: CatalogEntry = {
  name: "alloy",
  layer: "base",
  description: "Log shipping: Grafana Alloy on every node tails pod logs into Loki",
  helm: { chart: "alloy", repo: "https://grafana.github.io/helm-charts", version: "1.11.1" },
  namespace: "logging",
  // No CRD of Loki's: Alloy only pushes to Loki's URL, and loki.write retries a failed push with
  // backoff (500 ms doubling to 5 min, 10 retries: about 8 minutes; grafana/alloy
  // docs/sources/reference/components/loki/loki.write.md), and its readiness does not wait for
  // Loki, so it installs beside Loki, not after it (issue 24: one slow step fewer on a first up).
  needs: [],
  arch: BOTH,
  onSmallNodes: true,
  workloads: {
    alloy: { resources: res(20, 64, 500, 160), replicas: "allNodes" },
    // The chart's config reloader beside Alloy on every node (its default asks 50 MiB, no limit).
    configReloader: { resources: res(5, 16, 50, 48), replicas: "allNodes" },
  },
  hostAccess: ["hostPath: /var/log and its read positions in /var/lib/alloy"],
  values: alloyValues,
};
