/** Values of the two monitoring stacks, sized for a small cluster and its data volume. */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { PlatformContext } from "../catalog";
import { MICRO_TOLERATION } from "../labels";
import { Workload } from "../resources";
import { LOKI_URL, shareOfDisk, tlsIngress } from "./shared";
import { grafanaSso } from "./sso";
import { ETCD_DRILL_RULES, NODE_EXPORTER_EXTRA_ARGS } from "./etcd-drill-alerts";

type W = Readonly<Record<string, Workload>>;

const claim = (storageClassName: string, sizeGi: number) => ({
  storageClassName,
  accessModes: ["ReadWriteOnce"],
  resources: { requests: { storage: `${sizeGi}Gi` } },
});

// k3s and RKE2 run scheduler, controller manager and proxy inside one process, and kubeadm binds
// their metrics (and etcd's) to localhost: scraping them from Prometheus would only raise
// TargetDown alerts.
const UNREACHABLE_CONTROL_PLANE = {
  kubeEtcd: { enabled: false },
  kubeControllerManager: { enabled: false },
  kubeScheduler: { enabled: false },
  kubeProxy: { enabled: false },
};

/** Alert rules the program ships, one file each in alerts/ (tested with promtool). */
export const ALERT_RULE_FILES = ["idle-reclamation"] as const;

/** The rule groups of every shipped rules file, by name, as both stacks' rule maps take them. */
export function shippedAlertRules(): Record<string, { groups: unknown[] }> {
  return Object.fromEntries(
    ALERT_RULE_FILES.map((name) => {
      const text = fs.readFileSync(path.join(__dirname, "alerts", `${name}.yaml`), "utf8");
      return [`oci-k8s-${name}`, { groups: (parse(text) as { groups: unknown[] }).groups }];
    }),
  );
}

/** Every rule group both stacks get: the shipped rules files and the etcd restore drill's. */
export function alertRules(): Record<string, { groups: unknown[] }> {
  return { ...shippedAlertRules(), ...ETCD_DRILL_RULES };
}

const lokiDatasource = (ctx: PlatformContext) =>
  ctx.enabled.has("loki") ? [{ name: "Loki", type: "loki", access: "proxy", url: LOKI_URL }] : [];

export function kubePrometheusStackValues(ctx: PlatformContext, w: W) {
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
      ...grafanaSso(ctx),
    },
    prometheusOperator: { resources: w.operator.resources },
    // Rendered as PrometheusRule objects by the chart.
    additionalPrometheusRulesMap: alertRules(),
    "kube-state-metrics": { resources: w.kubeStateMetrics.resources },
    // node-exporter is the one part that runs on micro nodes too.
    "prometheus-node-exporter": {
      resources: w.nodeExporter.resources,
      tolerations: [MICRO_TOLERATION],
      extraArgs: NODE_EXPORTER_EXTRA_ARGS,
    },
    ...UNREACHABLE_CONTROL_PLANE,
  };
}

export function victoriaMetricsStackValues(ctx: PlatformContext, w: W) {
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
    "kube-state-metrics": { resources: w.kubeStateMetrics.resources },
    "prometheus-node-exporter": {
      resources: w.nodeExporter.resources,
      tolerations: [MICRO_TOLERATION],
      extraArgs: NODE_EXPORTER_EXTRA_ARGS,
    },
    ...UNREACHABLE_CONTROL_PLANE,
  };
}
