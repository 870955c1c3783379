/** The kube-prometheus-stack component: Prometheus, Alertmanager, Grafana, node-exporter and kube-state-metrics; retention sized for the disk. */
import { BOTH, NODE_EXPORTER_PORT, type CatalogEntry } from "../component";
import { res } from "../resources";
import { grafanaSecrets } from "../values/sso";
import { kubePrometheusStackValues } from "../values/kube-prometheus-stack";

export const KUBE_PROMETHEUS_STACK: CatalogEntry = {
  name: "kube-prometheus-stack",
  layer: "base",
  choice: "monitoring",
  description: "Prometheus, Alertmanager, Grafana, node-exporter and kube-state-metrics; retention sized for the disk",
  helm: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" },
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
    // Replaying the write-ahead log after a restart takes well above the steady ~500 MiB of a
    // small cluster; a 1 GiB limit made the restarted pod OOM-loop. 1.5 GiB leaves room.
    prometheus: { resources: res(100, 512, 1000, 1536), replicas: 1 },
    alertmanager: { resources: res(10, 48, 100, 96), replicas: 1 },
    // Grafana with a few dashboards settles near 150 MiB and peaks on large panels.
    grafana: { resources: res(50, 128, 500, 384), replicas: 1 },
    // Two k8s-sidecar containers in Grafana's pod (dashboards and datasources), one resources block.
    grafanaSidecars: { resources: res(10, 48, 100, 96), replicas: 2 },
    operator: { resources: res(50, 64, 500, 128), replicas: 1 },
    kubeStateMetrics: { resources: res(10, 64, 200, 128), replicas: 1 },
    nodeExporter: { resources: res(10, 24, 200, 48), replicas: "allNodes" },
  },
  values: kubePrometheusStackValues,
};
