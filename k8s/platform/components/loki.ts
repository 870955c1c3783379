/** The loki component: Log store: Loki as a single binary on the filesystem. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";
import { lokiValues } from "../values/loki";

export const LOKI: CatalogEntry = {
  name: "loki",
  layer: "base",
  description: "Log store: Loki as a single binary on the filesystem",
  // The open-source chart moved to grafana-community (grafana/loki's is Grafana Enterprise Logs from 7.0).
  helm: { chart: "loki", repo: "https://grafana-community.github.io/helm-charts", version: "18.11.0" },
  namespace: "logging",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  // The chart's single-binary guidance scaled to one small node: 512 Mi asked, 1 Gi at most.
  workloads: { loki: { resources: res(100, 512, 1000, 1024), replicas: 1 } },
  values: lokiValues,
};
