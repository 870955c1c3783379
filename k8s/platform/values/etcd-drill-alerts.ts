/**
 * The etcd restore drill on kubeadm servers (k8s/bootstrap/scripts/etcd-drill.sh) writes its
 * result for node-exporter's textfile collector; these are where node-exporter reads it and the
 * alerts on a failed or stale drill.
 */

/** Where the drill writes etcd_drill.prom on the host; node-exporter sees the host's / at /host/root. */
export const DRILL_TEXTFILE_DIR = "/var/lib/node_exporter/textfile";

/**
 * node-exporter's arguments: the chart's two filesystem filters (kept, as setting extraArgs
 * replaces them) and the textfile directory.
 */
export const NODE_EXPORTER_EXTRA_ARGS = [
  "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+|var/lib/kubelet/.+)($|/)",
  "--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs|erofs)$",
  `--collector.textfile.directory=/host/root${DRILL_TEXTFILE_DIR}`,
];

/** kube-prometheus-stack's additionalPrometheusRulesMap entry: one PrometheusRule. */
export const ETCD_DRILL_RULES = {
  "etcd-restore-drill": {
    groups: [
      {
        name: "etcd-restore-drill",
        rules: [
          {
            alert: "EtcdRestoreDrillFailed",
            expr: "oci_k8s_etcd_drill_success == 0",
            for: "5m",
            labels: { severity: "critical" },
            annotations: {
              summary: "The etcd restore drill failed on {{ $labels.instance }}",
              description:
                "The newest etcd snapshot did not restore into a working etcd. Run `sudo oci-k8s-etcd-drill run` on the server and read its message (journal: logger tag oci-k8s-etcd-drill).",
            },
          },
          {
            alert: "EtcdRestoreDrillStale",
            // Daily drill: no pass for two days (or never, once the drill has run).
            expr: "time() - oci_k8s_etcd_drill_last_success_timestamp_seconds > 2 * 86400",
            for: "30m",
            labels: { severity: "warning" },
            annotations: {
              summary: "No etcd restore drill has passed on {{ $labels.instance }} for two days",
              description: "Check the cron entry /etc/cron.d/oci-k8s-etcd-drill and run `sudo oci-k8s-etcd-drill run` by hand.",
            },
          },
        ],
      },
    ],
  },
};
