/** Values of victoria-metrics-k8s-stack, the lighter monitoring choice. */
import type { Placement, PlatformContext } from "../context";
import type { Workloads } from "../resources";
import { alertRules, claim, lokiDatasource, exporters } from "./monitoring";
import { shareOfDisk, tlsIngress } from "./shared";
import { grafanaSso } from "./sso";

export function victoriaMetricsStackValues(ctx: PlatformContext, w: Workloads, place: Placement) {
  return {
    vmsingle: {
      spec: {
        retentionPeriod: "30d",
        resources: w.vmsingle.resources,
        storage: claim(ctx.storageClass, shareOfDisk(ctx.diskGi, 0.3)),
      },
    },
    vmagent: { spec: { resources: w.vmagent.resources } },
    alertmanager: { spec: { resources: w.alertmanager.resources } },
    grafana: { resources: w.grafana.resources, ingress: tlsIngress("grafana", ctx.domain, ctx.ingressClass), ...grafanaSso(ctx) },
    // This chart provisions Grafana's datasources itself; extra ones go here.
    defaultDatasources: { extra: lokiDatasource(ctx) },
    "victoria-metrics-operator": { resources: w.operator.resources },
    // Rendered as VMRule objects by the chart.
    additionalVictoriaMetricsMap: alertRules(),
    ...exporters(w, place),
  };
}
