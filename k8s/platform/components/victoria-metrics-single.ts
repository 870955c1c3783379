/** The victoria-metrics-single component: VictoriaMetrics single node as long-term metrics storage. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const VICTORIA_METRICS_SINGLE: CatalogEntry = {
  name: "victoria-metrics-single",
  layer: "addon",
  description: "VictoriaMetrics single node as long-term metrics storage",
  helm: { chart: "victoria-metrics-single", repo: "https://victoriametrics.github.io/helm-charts/", version: "0.45.0" },
  namespace: "monitoring",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { server: { resources: res(50, 192, 500, 512), replicas: 1 } },
  values: (ctx, w) => ({
    server: {
      resources: w.server.resources,
      retentionPeriod: "90d",
      persistentVolume: {
        enabled: true,
        storageClassName: ctx.storageClass,
        size: `${Math.max(5, Math.floor(ctx.diskGi * 0.2))}Gi`,
      },
    },
  }),
};
