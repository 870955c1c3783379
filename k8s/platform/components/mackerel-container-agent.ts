/** The mackerel-container-agent component: RBAC for Mackerel's container agent sidecar (it reads pod stats from the kubelet); the sidecar goes in your workloads. */
import * as k8s from "@pulumi/kubernetes";
import { BOTH, type CatalogEntry } from "../component";

export const MACKEREL_CONTAINER_AGENT: CatalogEntry = {
  name: "mackerel-container-agent",
  layer: "addon",
  description:
    "RBAC for Mackerel's container agent sidecar (it reads pod stats from the kubelet); the sidecar goes in your workloads",
  namespace: "kube-system",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: {},
  objects: ({ opts }) => new k8s.rbac.v1.ClusterRole("mackerel-container-agent", mackerelClusterRole(), opts),
  values: () => ({}),
};

/**
 * What Mackerel's container agent needs from the kubelet (pod list and stats): bind it to the
 * service account of each workload that runs the sidecar.
 */
export function mackerelClusterRole() {
  return {
    metadata: { name: "mackerel-container-agent" },
    rules: [{ apiGroups: [""], resources: ["nodes/proxy", "nodes/stats", "nodes/spec"], verbs: ["get"] }],
  };
}
