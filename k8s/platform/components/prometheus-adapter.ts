/** The prometheus-adapter component: Custom and external metrics API from Prometheus (autoscaling on application metrics). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const PROMETHEUS_ADAPTER: CatalogEntry = {
  name: "prometheus-adapter",
  layer: "addon",
  description: "Custom and external metrics API from Prometheus (autoscaling on application metrics)",
  helm: { chart: "prometheus-adapter", repo: "https://prometheus-community.github.io/helm-charts", version: "5.3.0" },
  namespace: "monitoring",
  needs: ["kube-prometheus-stack"],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { adapter: { resources: res(20, 64, 500, 192), replicas: 1 } },
  values: (_ctx, w) => ({
    resources: w.adapter.resources,
    // kube-prometheus-stack's Prometheus service in the same namespace.
    prometheus: { url: "http://kube-prometheus-stack-prometheus.monitoring.svc", port: 9090 },
  }),
};
