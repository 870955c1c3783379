/** Values of kube-prometheus-stack, sized for a small cluster and its data volume. */
import type { Placement, PlatformContext } from "../context";
import type { Workloads } from "../resources";
import { alertRules, claim, lokiDatasource, exporters } from "./monitoring";
import { shareOfDisk, tlsIngress } from "./shared";
import { grafanaAdmin, grafanaSso } from "./sso";

export function kubePrometheusStackValues(ctx: PlatformContext, w: Workloads, place: Placement) {
  // Prometheus may fill 30 % of a data volume; retention stops at 85 % of its claim.
  const sizeGi = shareOfDisk(ctx.diskGi, 0.3);
  return {
    prometheus: {
      prometheusSpec: {
        retention: "15d",
        retentionSize: `${Math.floor(sizeGi * 0.85)}GB`,
        resources: w.prometheus.resources,
        storageSpec: { volumeClaimTemplate: { spec: claim(ctx.storageClass, sizeGi) } },
        // Scrape ServiceMonitors and PodMonitors of every release, not only this chart's.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
      },
    },
    alertmanager: { alertmanagerSpec: { resources: w.alertmanager.resources } },
    grafana: {
      resources: w.grafana.resources,
      sidecar: { resources: w.grafanaSidecars.resources },
      ingress: tlsIngress("grafana", ctx.domain, ctx.ingressClass),
      additionalDataSources: lokiDatasource(ctx),
      ...grafanaAdmin(),
      ...grafanaSso(ctx),
    },
    prometheusOperator: { resources: w.operator.resources },
    // Rendered as PrometheusRule objects by the chart.
    additionalPrometheusRulesMap: alertRules(),
    ...exporters(w, place),
  };
}
