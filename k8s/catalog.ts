/**
 * The component catalog: the one place a platform component is declared. Each entry names its
 * chart, repository and exact version (a reviewer bumps a version in one line; Renovate reads
 * the `# renovate:`-style comments), its namespace, layer, the components whose CRDs it needs,
 * the architectures its images exist for, its workloads with their requests and limits, and the
 * default values it is installed with. Values were written against each chart's own values.yaml
 * at the pinned version.
 */
import * as pulumi from "@pulumi/pulumi";
import { DistributionName } from "./bootstrap/distributions";
import { MICRO_TOLERATION } from "./labels";
import { LOCAL_PATH_CLASS } from "./local-path";
import { NodeCounts, res, Workload } from "./resources";
import { alloyValues, lokiValues } from "./values/logging";
import { argoCdValues, AVP_RESOURCES } from "./values/argocd";
import { dexValues } from "./values/sso";
import { kubePrometheusStackValues, victoriaMetricsStackValues } from "./values/monitoring";
import { ingressNginxValues, traefikValues } from "./values/ingress";

export interface PlatformContext {
  readonly clusterName: string;
  /** DNS zone of the cluster's ingress hostnames. */
  readonly domain: pulumi.Input<string>;
  /** The load balancer's public address: what every Ingress's status publishes. */
  readonly ingressAddress: pulumi.Input<string>;
  readonly distribution: DistributionName;
  /** Contact address for Let's Encrypt (optional). */
  readonly acmeEmail: string;
  readonly ingressClass: string;
  readonly storageClass: string;
  /** Where data volumes are mounted on nodes. */
  readonly dataPath: string;
  readonly nodes: NodeCounts;
  /** Storage the platform may claim on one data volume, in GiB. */
  readonly diskGi: number;
  /** Names of every enabled component. */
  readonly enabled: ReadonlySet<string>;
  /** OIDC client secrets for Argo CD and Grafana, made by the Platform when Dex is enabled. */
  readonly sso?: { readonly argocd: pulumi.Input<string>; readonly grafana: pulumi.Input<string> };
}

export type Layer = "base" | "addon";
/** Alternatives of which a stack picks one. */
export type Choice = "ingress" | "storage" | "monitoring";

export interface HelmSource {
  readonly chart: string;
  /** Chart repository URL; empty for an OCI chart reference in `chart`. */
  readonly repo: string;
  readonly version: string;
}

export interface CatalogEntry {
  readonly name: string;
  readonly layer: Layer;
  /** For alternatives: which choice this entry is an option of. */
  readonly choice?: Choice;
  readonly description: string;
  /** A Helm chart, or undefined for a component whose objects the program creates itself. */
  readonly helm?: HelmSource;
  readonly namespace: string;
  /** Components whose CRDs (or services) this one needs first. */
  readonly needs: readonly string[];
  /** Architectures its images are published for. */
  readonly arch: readonly ("arm64" | "amd64")[];
  /** May run on the tainted 1 GB micro nodes. */
  readonly toleratesMicro: boolean;
  readonly workloads: Readonly<Record<string, Workload>>;
  /** The values it is installed with (before the stack's overrides). */
  readonly values: (ctx: PlatformContext, w: Readonly<Record<string, Workload>>) => Record<string, unknown>;
  /** Dotted value paths the stack must set through componentValues before enabling it. */
  readonly requiredValues?: readonly string[];
  /** What the cluster gains from it that other components refer to by name. */
  readonly provides?: { readonly ingressClass?: string; readonly storageClass?: string };
  /**
   * Ports it listens on in the nodes' own network (hostNetwork), which other nodes reach: each
   * becomes a node-to-node firewall rule while the component is enabled.
   */
  readonly hostPorts?: readonly HostPort[];
}

export interface HostPort {
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  readonly description: string;
}

/** node-exporter listens on the host network; Prometheus (or vmagent) scrapes it on every node. */
const NODE_EXPORTER_PORT: HostPort = {
  protocol: "tcp",
  port: 9100,
  description: "node-exporter metrics, scraped from every node",
};

/** The host ports of the enabled components, once each. */
export function componentHostPorts(components: readonly CatalogEntry[]): HostPort[] {
  const ports = components.flatMap((c) => c.hostPorts ?? []);
  return ports.filter((p, i) => ports.findIndex((q) => q.protocol === p.protocol && q.port === p.port) === i);
}

/** The name an enabled component provides (the ingress class, the default StorageClass). */
export function provided(components: readonly CatalogEntry[], what: "ingressClass" | "storageClass"): string {
  const name = components.map((c) => c.provides?.[what]).find((n) => n !== undefined);
  if (!name) throw new Error(`no enabled component provides the ${what}`);
  return name;
}

const BOTH: ("arm64" | "amd64")[] = ["arm64", "amd64"];

export const CATALOG: readonly CatalogEntry[] = [
  // ── base ────────────────────────────────────────────────────────────────────────────────
  {
    name: "traefik",
    provides: { ingressClass: "traefik" },
    layer: "base",
    choice: "ingress",
    description: "Ingress controller: a DaemonSet on host ports 80/443 of the ingress nodes, behind the NLB",
    helm: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0" },
    namespace: "ingress",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { traefik: { resources: res(100, 128, 1000, 256), replicas: "ingressNodes" } },
    values: traefikValues,
  },
  {
    name: "ingress-nginx",
    provides: { ingressClass: "nginx" },
    layer: "base",
    choice: "ingress",
    description: "Ingress controller (retired upstream in 2026; for those who need it), same host-port layout",
    helm: { chart: "ingress-nginx", repo: "https://kubernetes.github.io/ingress-nginx", version: "4.15.1" },
    namespace: "ingress",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { controller: { resources: res(100, 128, 1000, 384), replicas: "ingressNodes" } },
    values: ingressNginxValues,
  },
  {
    name: "cert-manager",
    layer: "base",
    description: "Certificates from Let's Encrypt (staging and production ClusterIssuers, HTTP-01 through the ingress)",
    helm: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1" },
    namespace: "cert-manager",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: {
      controller: { resources: res(20, 64, 500, 192), replicas: 1 },
      webhook: { resources: res(10, 32, 200, 96), replicas: 1 },
      cainjector: { resources: res(10, 64, 200, 192), replicas: 1 },
      // A post-install check job, not a steady pod.
      startupapicheck: { resources: res(10, 32, 100, 64), replicas: 0 },
    },
    values: (_ctx, w) => ({
      // The chart installs and keeps its CRDs (kept on uninstall, so certificates survive a reinstall).
      crds: { enabled: true, keep: true },
      resources: w.controller.resources,
      webhook: { resources: w.webhook.resources },
      cainjector: { resources: w.cainjector.resources },
      startupapicheck: { resources: w.startupapicheck.resources },
    }),
  },
  {
    name: "sealed-secrets",
    layer: "base",
    description: "Secrets encrypted for the cluster, safe in a public git repository; keys never leave the cluster",
    helm: { chart: "sealed-secrets", repo: "https://bitnami-labs.github.io/sealed-secrets", version: "2.18.5" },
    namespace: "kube-system",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { controller: { resources: res(10, 64, 200, 128), replicas: 1 } },
    values: (_ctx, w) => ({
      // The name kubeseal looks for by default, so `kubeseal` works without flags.
      fullnameOverride: "sealed-secrets-controller",
      resources: w.controller.resources,
    }),
  },
  {
    name: "metrics-server",
    layer: "base",
    description: "Resource metrics for kubectl top and autoscaling",
    helm: { chart: "metrics-server", repo: "https://kubernetes-sigs.github.io/metrics-server/", version: "3.13.1" },
    namespace: "kube-system",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { server: { resources: res(50, 64, 500, 128), replicas: 1 } },
    values: (ctx, w) => ({
      resources: w.server.resources,
      // kubeadm's kubelets serve self-signed certificates (k3s and RKE2 sign theirs with the cluster CA).
      args: ctx.distribution === "kubeadm" ? ["--kubelet-insecure-tls"] : [],
    }),
  },
  {
    name: "local-path",
    provides: { storageClass: LOCAL_PATH_CLASS },
    layer: "base",
    choice: "storage",
    description: "Node-local persistent volumes on the data volume (rancher/local-path-provisioner v0.0.37)",
    namespace: "local-path-storage",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { provisioner: { resources: res(10, 32, 200, 128), replicas: 1 } },
    values: () => ({}),
  },
  {
    name: "longhorn",
    provides: { storageClass: "longhorn" },
    layer: "base",
    choice: "storage",
    description: "Replicated block storage over the nodes' data volumes (needs data volumes on two or more nodes)",
    helm: { chart: "longhorn", repo: "https://charts.longhorn.io", version: "1.12.1" },
    namespace: "longhorn-system",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { manager: { resources: res(100, 256, 1000, 512), replicas: "a1Nodes" } },
    values: (ctx, w) => {
      const replicas = Math.min(3, ctx.nodes.withDataVolume);
      return {
        defaultSettings: { defaultDataPath: `${ctx.dataPath}/longhorn`, defaultReplicaCount: replicas },
        persistence: { defaultClass: true, defaultClassReplicaCount: replicas },
        longhornManager: { resources: w.manager.resources },
        // One of each CSI sidecar and UI pod: a small cluster does not need three of each.
        csi: { attacherReplicaCount: 1, provisionerReplicaCount: 1, resizerReplicaCount: 1, snapshotterReplicaCount: 1 },
        longhornUI: { replicas: 1 },
      };
    },
  },
  {
    name: "kube-prometheus-stack",
    layer: "base",
    choice: "monitoring",
    description: "Prometheus, Alertmanager, Grafana, node-exporter and kube-state-metrics; retention sized for the disk",
    helm: { chart: "kube-prometheus-stack", repo: "https://prometheus-community.github.io/helm-charts", version: "88.5.3" },
    namespace: "monitoring",
    needs: [],
    arch: BOTH,
    // node-exporter only: it runs on every node.
    toleratesMicro: true,
    hostPorts: [NODE_EXPORTER_PORT],
    workloads: {
      // Replaying the write-ahead log after a restart takes well above the steady ~500 MiB of a
      // small cluster; a 1 GiB limit made the restarted pod OOM-loop. 1.5 GiB leaves room.
      prometheus: { resources: res(100, 512, 1000, 1536), replicas: 1 },
      alertmanager: { resources: res(10, 48, 100, 96), replicas: 1 },
      // Grafana with a few dashboards settles near 150 MiB and peaks on large panels.
      grafana: { resources: res(50, 128, 500, 384), replicas: 1 },
      // Two k8s-sidecar containers in Grafana's pod (dashboards and datasources), one resources block.
      grafanaSidecars: { resources: res(10, 48, 100, 96), replicas: 2 },
      operator: { resources: res(50, 64, 500, 128), replicas: 1 },
      kubeStateMetrics: { resources: res(10, 64, 200, 128), replicas: 1 },
      nodeExporter: { resources: res(10, 24, 200, 48), replicas: "allNodes" },
    },
    values: kubePrometheusStackValues,
  },
  {
    name: "victoria-metrics-k8s-stack",
    layer: "base",
    choice: "monitoring",
    description: "The lighter monitoring choice: VictoriaMetrics single, vmagent, Alertmanager, Grafana, exporters",
    helm: { chart: "victoria-metrics-k8s-stack", repo: "https://victoriametrics.github.io/helm-charts/", version: "0.91.2" },
    namespace: "monitoring",
    needs: [],
    arch: BOTH,
    // node-exporter only: it runs on every node.
    toleratesMicro: true,
    hostPorts: [NODE_EXPORTER_PORT],
    workloads: {
      vmsingle: { resources: res(100, 256, 1000, 768), replicas: 1 },
      vmagent: { resources: res(50, 128, 500, 256), replicas: 1 },
      alertmanager: { resources: res(10, 48, 100, 96), replicas: 1 },
      grafana: { resources: res(50, 128, 500, 256), replicas: 1 },
      operator: { resources: res(20, 64, 500, 128), replicas: 1 },
      kubeStateMetrics: { resources: res(10, 64, 200, 128), replicas: 1 },
      nodeExporter: { resources: res(10, 24, 200, 48), replicas: "allNodes" },
    },
    values: victoriaMetricsStackValues,
  },
  {
    name: "loki",
    layer: "base",
    description: "Log store: Loki as a single binary on the filesystem",
    // The open-source chart moved to grafana-community (grafana/loki's is Grafana Enterprise Logs from 7.0).
    helm: { chart: "loki", repo: "https://grafana-community.github.io/helm-charts", version: "18.11.0" },
    namespace: "logging",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    // The chart's single-binary guidance scaled to one small node: 512 Mi asked, 1 Gi at most.
    workloads: { loki: { resources: res(100, 512, 1000, 1024), replicas: 1 } },
    values: lokiValues,
  },
  {
    name: "alloy",
    layer: "base",
    description: "Log shipping: Grafana Alloy on every node tails pod logs into Loki",
    helm: { chart: "alloy", repo: "https://grafana.github.io/helm-charts", version: "1.11.1" },
    namespace: "logging",
    needs: ["loki"],
    arch: BOTH,
    toleratesMicro: true,
    workloads: {
      alloy: { resources: res(20, 64, 500, 160), replicas: "allNodes" },
      // The chart's config reloader beside Alloy on every node (its default asks 50 MiB, no limit).
      configReloader: { resources: res(5, 16, 50, 48), replicas: "allNodes" },
    },
    values: alloyValues,
  },
  {
    name: "argo-cd",
    layer: "base",
    description: "GitOps: takes over the cluster's workloads from a git repository",
    helm: { chart: "argo-cd", repo: "https://argoproj.github.io/argo-helm", version: "10.1.1" },
    namespace: "argocd",
    needs: ["cert-manager"],
    arch: BOTH,
    toleratesMicro: false,
    workloads: {
      controller: { resources: res(100, 256, 1000, 512), replicas: 1 },
      server: { resources: res(20, 64, 500, 192), replicas: 1 },
      // Helm renders of a chart with many templates peak in the repo server; 256 MiB was killed.
      repoServer: { resources: res(20, 128, 1000, 512), replicas: 1 },
      // Capped with maxmemory below the limit (values/argocd.ts): a cache evicts, never OOMs.
      redis: { resources: res(10, 32, 200, 96), replicas: 1 },
      applicationSet: { resources: res(10, 48, 200, 128), replicas: 1 },
      notifications: { resources: res(10, 32, 200, 64), replicas: 1 },
    },
    values: argoCdValues,
  },

  // ── addons ──────────────────────────────────────────────────────────────────────────────
  {
    name: "external-dns",
    layer: "addon",
    description: "DNS records for Ingresses in your DNS provider (set provider.name and its credentials)",
    helm: { chart: "external-dns", repo: "https://kubernetes-sigs.github.io/external-dns/", version: "1.21.1" },
    namespace: "external-dns",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { controller: { resources: res(10, 48, 200, 96), replicas: 1 } },
    values: (ctx, w) => ({
      resources: w.controller.resources,
      sources: ["ingress"],
      // Never deletes records it did not create; owned records are marked with the cluster name.
      policy: "upsert-only",
      txtOwnerId: ctx.clusterName,
      domainFilters: [ctx.domain],
    }),
    requiredValues: ["provider.name"],
  },
  {
    name: "external-secrets",
    layer: "addon",
    description: "External Secrets Operator: secrets synced from Vault, OCI Vault or another store",
    helm: { chart: "external-secrets", repo: "https://charts.external-secrets.io", version: "2.9.0" },
    namespace: "external-secrets",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: {
      controller: { resources: res(10, 64, 500, 192), replicas: 1 },
      webhook: { resources: res(10, 32, 200, 96), replicas: 1 },
      certController: { resources: res(10, 32, 200, 96), replicas: 1 },
    },
    values: (_ctx, w) => ({
      installCRDs: true,
      resources: w.controller.resources,
      webhook: { resources: w.webhook.resources },
      certController: { resources: w.certController.resources },
    }),
  },
  {
    name: "cloudnative-pg",
    layer: "addon",
    description: "CloudNativePG operator: PostgreSQL clusters as Kubernetes objects",
    helm: { chart: "cloudnative-pg", repo: "https://cloudnative-pg.github.io/charts", version: "0.29.0" },
    namespace: "cnpg-system",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { operator: { resources: res(10, 64, 500, 256), replicas: 1 } },
    values: (_ctx, w) => ({ resources: w.operator.resources }),
  },
  {
    name: "victoria-metrics-single",
    layer: "addon",
    description: "VictoriaMetrics single node as long-term metrics storage",
    helm: { chart: "victoria-metrics-single", repo: "https://victoriametrics.github.io/helm-charts/", version: "0.45.0" },
    namespace: "monitoring",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { server: { resources: res(50, 192, 500, 512), replicas: 1 } },
    values: (ctx, w) => ({
      server: {
        resources: w.server.resources,
        retentionPeriod: "90d",
        persistentVolume: {
          enabled: true,
          storageClassName: ctx.storageClass,
          size: `${Math.max(5, Math.floor(ctx.diskGi * 0.2))}Gi`,
        },
      },
    }),
  },
  {
    name: "prometheus-adapter",
    layer: "addon",
    description: "Custom and external metrics API from Prometheus (autoscaling on application metrics)",
    helm: { chart: "prometheus-adapter", repo: "https://prometheus-community.github.io/helm-charts", version: "5.3.0" },
    namespace: "monitoring",
    needs: ["kube-prometheus-stack"],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { adapter: { resources: res(20, 64, 500, 192), replicas: 1 } },
    values: (_ctx, w) => ({
      resources: w.adapter.resources,
      // kube-prometheus-stack's Prometheus service in the same namespace.
      prometheus: { url: "http://kube-prometheus-stack-prometheus.monitoring.svc", port: 9090 },
    }),
  },
  {
    name: "vault",
    layer: "addon",
    description: "HashiCorp Vault, standalone with file storage; Argo CD gets the argocd-vault-plugin to fill secrets from it",
    helm: { chart: "vault", repo: "https://helm.releases.hashicorp.com", version: "0.34.1" },
    namespace: "vault",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: {
      server: { resources: res(50, 128, 500, 256), replicas: 1 },
      injector: { resources: res(10, 32, 200, 96), replicas: 1 },
      // The argocd-vault-plugin sidecar added to Argo CD's repo server when Vault is enabled.
      argocdPlugin: { resources: AVP_RESOURCES, replicas: 1, installedWith: "argo-cd" },
    },
    values: (ctx, w) => ({
      server: {
        standalone: { enabled: true },
        resources: w.server.resources,
        dataStorage: { enabled: true, size: "2Gi", storageClass: ctx.storageClass },
      },
      injector: { resources: w.injector.resources },
    }),
  },
  {
    name: "dex",
    layer: "addon",
    description:
      "Dex at dex.<domain>: single sign-on for Argo CD and Grafana through your connector (set config.connectors, e.g. GitHub)",
    helm: { chart: "dex", repo: "https://charts.dexidp.io", version: "0.24.0" },
    namespace: "dex",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { dex: { resources: res(10, 32, 200, 96), replicas: 1 } },
    values: dexValues,
    requiredValues: ["config.connectors"],
  },
  {
    name: "gha-runner-scale-set-controller",
    layer: "addon",
    description: "GitHub Actions Runner Controller (runner scale sets)",
    helm: {
      chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set-controller",
      repo: "",
      version: "0.14.2",
    },
    namespace: "arc-systems",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { controller: { resources: res(20, 64, 500, 192), replicas: 1 } },
    values: (_ctx, w) => ({ resources: w.controller.resources }),
  },
  {
    name: "gha-runner-scale-set",
    layer: "addon",
    description: "Ephemeral GitHub Actions runners for a repository or organization (set githubConfigUrl and githubConfigSecret)",
    helm: {
      chart: "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set",
      repo: "",
      version: "0.14.2",
    },
    namespace: "arc-runners",
    needs: ["gha-runner-scale-set-controller"],
    arch: BOTH,
    toleratesMicro: false,
    // Runners are created on demand (minRunners 0); the steady pod is the listener.
    workloads: { runner: { resources: res(500, 1024, 2000, 2048), replicas: 0 } },
    values: (_ctx, w) => ({
      minRunners: 0,
      maxRunners: 2,
      template: {
        spec: {
          containers: [
            {
              name: "runner",
              image: "ghcr.io/actions/actions-runner:2.335.1",
              command: ["/home/runner/run.sh"],
              resources: w.runner.resources,
            },
          ],
        },
      },
    }),
    requiredValues: ["githubConfigUrl", "githubConfigSecret"],
  },
  {
    name: "kured",
    layer: "addon",
    description: "Reboots nodes one at a time after unattended upgrades ask for it",
    helm: { chart: "kured", repo: "https://kubereboot.github.io/charts", version: "6.1.0" },
    namespace: "kube-system",
    needs: [],
    arch: BOTH,
    toleratesMicro: true,
    workloads: { kured: { resources: res(5, 16, 100, 48), replicas: "allNodes" } },
    values: (_ctx, w) => ({
      resources: w.kured.resources,
      tolerations: [MICRO_TOLERATION],
      configuration: { period: "1h0m0s", startTime: "02:00", endTime: "05:00", timeZone: "UTC" },
    }),
  },
  {
    name: "mackerel-container-agent",
    layer: "addon",
    description:
      "RBAC for Mackerel's container agent sidecar (it reads pod stats from the kubelet); the sidecar goes in your workloads",
    namespace: "kube-system",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: {},
    values: () => ({}),
  },
  {
    name: "rook-ceph",
    layer: "addon",
    description: "Rook operator for Ceph on spare disks (the CephCluster itself comes from GitOps)",
    helm: { chart: "rook-ceph", repo: "https://charts.rook.io/release", version: "v1.20.6" },
    namespace: "rook-ceph",
    needs: [],
    arch: BOTH,
    toleratesMicro: false,
    workloads: { operator: { resources: res(100, 128, 1000, 512), replicas: 1 } },
    values: (_ctx, w) => ({ resources: w.operator.resources }),
  },
];

export function catalogEntry(name: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.name === name);
}

/** The default pick of each choice. */
export const DEFAULT_CHOICES: Readonly<Record<Choice, string>> = {
  ingress: "traefik",
  storage: "local-path",
  monitoring: "kube-prometheus-stack",
};

export const ADDON_NAMES = CATALOG.filter((e) => e.layer === "addon").map((e) => e.name);
export const choicesOf = (choice: Choice) => CATALOG.filter((e) => e.choice === choice).map((e) => e.name);
