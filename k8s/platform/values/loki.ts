/** Values of Loki: a single binary on the filesystem. */
import type { PlatformContext } from "../context";
import type { Workloads } from "../resources";
import { shareOfDisk } from "./shared";

/**
 * Loki's Go runtime is told to stay below the container's limit (GOMEMLIMIT), so it collects
 * garbage harder instead of being killed: 85 % of the limit, the margin Grafana's own sizing
 * guidance leaves for non-heap memory.
 */
export function goMemLimit(limitMi: number): string {
  return `${Math.floor(limitMi * 0.85)}MiB`;
}

export function lokiValues(ctx: PlatformContext, w: Workloads) {
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
