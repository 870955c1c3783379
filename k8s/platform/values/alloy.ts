/** Values of Grafana Alloy: one per node, tailing that node's pod logs into Loki. */
import type { Placement, PlatformContext } from "../context";
import type { Workloads } from "../resources";
import { LOKI_URL } from "./shared";

/** Alloy pipeline: the pods of this node, their log files, into Loki with namespace/pod/container labels. */
export const ALLOY_CONFIG = `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_node_name"]
    target_label  = "node"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"]
    separator     = "/"
    target_label  = "__path__"
    replacement   = "/var/log/pods/*$1/*.log"
  }
}

local.file_match "pods" {
  path_targets = discovery.relabel.pods.output
}

loki.source.file "pods" {
  targets    = local.file_match.pods.targets
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  stage.cri {}
  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "${LOKI_URL}/loki/api/v1/push"
  }
}
`;

/** Alloy's read positions on the node itself: a restarted pod resumes where it stopped instead of re-sending every log. */
export const ALLOY_STATE_PATH = "/var/lib/alloy";

export function alloyValues(_ctx: PlatformContext, w: Workloads, place: Placement) {
  return {
    // One Alloy per node, small nodes included, reading that node's pod logs.
    controller: {
      type: "daemonset",
      tolerations: place.tolerations,
      volumes: { extra: [{ name: "alloy-state", hostPath: { path: ALLOY_STATE_PATH, type: "DirectoryOrCreate" } }] },
    },
    alloy: {
      resources: w.alloy.resources,
      storagePath: ALLOY_STATE_PATH,
      mounts: { varlog: true, extra: [{ name: "alloy-state", mountPath: ALLOY_STATE_PATH }] },
      configMap: { create: true, content: ALLOY_CONFIG },
    },
    configReloader: { resources: w.configReloader.resources },
  };
}
