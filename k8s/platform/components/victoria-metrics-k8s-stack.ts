/** The victoria-metrics-k8s-stack component: The lighter monitoring choice: VictoriaMetrics single, vmagent, Alertmanager, Grafana, exporters. */
import { BOTH, NODE_EXPORTER_PORT, type CatalogEntry } from "../component";
import { res } from "../resources";
import { grafanaSecrets } from "../values/sso";
import { victoriaMetricsStackValues } from "../values/victoria-metrics-k8s-stack";

export const VICTORIA_METRICS_K8S_STACK: CatalogEntry = {
  name: "victoria-metrics-k8s-stack",
  layer: "base",
  choice: "monitoring",
  description: "The lighter monitoring choice: VictoriaMetrics single, vmagent, Alertmanager, Grafana, exporters",
  helm: { chart: "victoria-metrics-k8s-stack", repo: "https://victoriametrics.github.io/helm-charts/", version: "0.91.2" },
  namespace: "monitoring",
  needs: [],
  arch: BOTH,
  // node-exporter only: it runs on every node.
  onSmallNodes: true,
  hostPorts: [NODE_EXPORTER_PORT],
  hostAccess: ["node-exporter: hostNetwork, hostPID and the host's / (hostPath) by its chart's defaults"],
  exposes: [{ host: "grafana", locks: ["generated-credential", "sso"], credentialValue: "grafana.admin.existingSecret" }],
  secrets: grafanaSecrets,
  workloads: {
    vmsingle: { resources: res(100, 256, 1000, 768), replicas: 1 },
    vmagent: { resources: res(50, 128, 500, 256), replicas: 1 },
    alertmanager: { resources: res(10, 48, 100, 96), replicas: 1 },
    grafana: { resources: res(50, 128, 500, 256), replicas: 1 },
    operator: { resources: res(20, 64, 500, 128), replicas: 1 },
    kubeStateMetrics: { resources: res(10, 64, 200, 128), replicas: 1 },
    nodeExporter: { resources: res(10, 24, 200, 48), replicas: "allNodes" },
  },
  values: victoriaMetricsStackValues,
};
