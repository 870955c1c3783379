/** Values of victoria-metrics-k8s-stack, the lighter monitoring choice. */
import type { Placement, PlatformContext } from "../context";
import type { Workloads } from "../resources";
import { alertRules, claim, lokiDatasource, exporters } from "./monitoring";
import { shareOfDisk, tlsIngress } from "./shared";
import { grafanaAdmin, grafanaSso } from "./sso";

/** The operator subchart's object names (its fullnameOverride): short enough for every suffix it adds. */
export const VM_OPERATOR_FULLNAME = "vm-operator";

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
    grafana: {
      resources: w.grafana.resources,
      ingress: tlsIngress("grafana", ctx.domain, ctx.ingressClass),
      ...grafanaAdmin(),
      ...grafanaSso(ctx),
    },
    // This chart provisions Grafana's datasources itself; extra ones go here.
    defaultDatasources: { extra: lokiDatasource(ctx) },
    // The operator subchart names its objects <release>-victoria-metrics-operator (52 characters
    // under this release), and its CRD cleanup pre-delete hook Job and ServiceAccount add
    // "-cleanup-hook": 65, over the 63 of a DNS label, so uninstalling failed. A short name fixes it.
    "victoria-metrics-operator": { fullnameOverride: VM_OPERATOR_FULLNAME, resources: w.operator.resources },
    // Rendered as VMRule objects by the chart.
    additionalVictoriaMetricsMap: alertRules(),
    ...exporters(w, place),
  };
}
