/** What both monitoring stacks share: volume claims, unreachable control-plane targets, the alert rules, Loki as a datasource. */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { Placement, PlatformContext } from "../context";
import type { Workloads } from "../resources";
import { LOKI_URL } from "./shared";
import { ETCD_DRILL_RULES, NODE_EXPORTER_EXTRA_ARGS } from "./etcd-drill-alerts";

export const claim = (storageClassName: string, sizeGi: number) => ({
  storageClassName,
  accessModes: ["ReadWriteOnce"],
  resources: { requests: { storage: `${sizeGi}Gi` } },
});

// k3s and RKE2 run scheduler, controller manager and proxy inside one process, and kubeadm binds
// their metrics (and etcd's) to localhost: scraping them from Prometheus would only raise
// TargetDown alerts.
export const UNREACHABLE_CONTROL_PLANE = {
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

export const lokiDatasource = (ctx: PlatformContext) =>
  ctx.enabled.has("loki") ? [{ name: "Loki", type: "loki", access: "proxy", url: LOKI_URL }] : [];

/**
 * The exporters both stacks run the same way: kube-state-metrics, and node-exporter, the one part
 * that runs on small nodes too (with the drill's textfile metrics); no control-plane targets.
 */
export function exporters(w: Workloads, place: Placement) {
  return {
    "kube-state-metrics": { resources: w.kubeStateMetrics.resources },
    "prometheus-node-exporter": {
      resources: w.nodeExporter.resources,
      tolerations: place.tolerations,
      extraArgs: NODE_EXPORTER_EXTRA_ARGS,
    },
    ...UNREACHABLE_CONTROL_PLANE,
  };
}
