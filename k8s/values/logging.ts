/** Values of the logging pair: Loki as a single binary on the filesystem, Grafana Alloy on every node. */
import type { PlatformContext } from "../catalog";
import { MICRO_TOLERATION } from "../labels";
import { Workload } from "../resources";
import { LOKI_URL, shareOfDisk } from "./shared";

type W = Readonly<Record<string, Workload>>;

/**
 * Loki's Go runtime is told to stay below the container's limit (GOMEMLIMIT), so it collects
 * garbage harder instead of being killed: 85 % of the limit, the margin Grafana's own sizing
 * guidance leaves for non-heap memory.
 */
export function goMemLimit(limitMi: number): string {
  return `${Math.floor(limitMi * 0.85)}MiB`;
}

export function lokiValues(ctx: PlatformContext, w: W) {
  const limitMi = Number(/^(\d+)Mi$/.exec(w.loki.resources.limits.memory)![1]);
  return {
    // One process with every target, on the filesystem (the open-source chart's Monolithic mode).
    deploymentMode: "Monolithic",
    loki: {
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: { type: "filesystem" },
      schemaConfig: {
        configs: [
          {
            from: "2025-01-01",
            store: "tsdb",
            object_store: "filesystem",
            schema: "v13",
            index: { prefix: "loki_index_", period: "24h" },
          },
        ],
      },
      // Seven days of logs; the compactor deletes older chunks.
      limits_config: { retention_period: "168h" },
      compactor: { retention_enabled: true, delete_request_store: "filesystem" },
      // Two queries at a time: what one small node answers without running out of memory.
      querier: { max_concurrent: 2 },
    },
    singleBinary: {
      replicas: 1,
      resources: w.loki.resources,
      extraEnv: [{ name: "GOMEMLIMIT", value: goMemLimit(limitMi) }],
      persistence: { enabled: true, size: `${shareOfDisk(ctx.diskGi, 0.2)}Gi`, storageClass: ctx.storageClass },
      // The rules sidecar loads alerting rules from ConfigMaps; the program ships none for Loki.
      sidecar: false,
    },
    sidecar: { rules: { enabled: false } },
    // The scalable targets, caches, gateway, canary and bundled MinIO are for large installs.
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    gateway: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    minio: { enabled: false },
  };
}

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

export function alloyValues(_ctx: PlatformContext, w: W) {
  return {
    // One Alloy per node, micro nodes included, reading that node's pod logs.
    controller: {
      type: "daemonset",
      tolerations: [MICRO_TOLERATION],
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
