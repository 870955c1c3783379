/**
 * The one interface every Kubernetes distribution implements, and its three implementations:
 * k3s (the default), RKE2 and kubeadm. A distribution turns a node's plain facts into the
 * command that installs it and the settings (its config file) sent on stdin.
 */
import { stringify } from "yaml";
import { formatTaint, Taint } from "../labels";
import { reservations, UPSTREAM_RESOLV_CONF } from "./reserved";
import { scriptCommand } from "./scripts";
import type { NodeRole } from "./types";
import { minorOf } from "./versions";

export const DISTRIBUTION_NAMES = ["k3s", "kubeadm", "rke2"] as const;
export type DistributionName = (typeof DISTRIBUTION_NAMES)[number];

/** What a distribution needs to know of one node. */
export interface NodeFacts {
  readonly name: string;
  readonly role: NodeRole;
  /** The server that creates the cluster. */
  readonly first: boolean;
  readonly privateIp: string;
  /** The node's own addresses (private, and the one it is reached at): on a server, API certificate SANs. */
  readonly addresses: readonly string[];
  readonly memoryGb: number;
  readonly taints: readonly Taint[];
}

/** What a distribution needs to know of the cluster. */
export interface ClusterFacts {
  readonly clusterName: string;
  readonly version: string;
  /** Private IP of the first server: where other nodes join. */
  readonly firstServerIp: string;
  /** Names and addresses every server's API certificate must be valid for (the shared endpoints). */
  readonly tlsSans: readonly string[];
  /**
   * kubeadm: the control-plane endpoint's name, and the address agents reach it at (a load
   * balancer over the servers). Servers resolve the name to themselves (the first server always,
   * a joining one once it has joined), so no server's install waits for the load balancer.
   */
  readonly internalApi?: { readonly name: string; readonly address: string };
  /** The cluster token (k3s and RKE2). */
  readonly token?: string;
  /** Scheduled etcd snapshots, and where to upload them (k3s and RKE2). */
  readonly etcdBackup?: EtcdBackup;
}

/** etcd snapshots on a schedule, kept on the servers and, with a bucket, uploaded to S3-compatible storage. */
export interface EtcdBackup {
  /** Cron schedule of snapshots. */
  readonly schedule: string;
  /** Snapshots kept, on each server and in the bucket. */
  readonly retention: number;
  readonly s3?: {
    readonly endpoint: string;
    readonly region: string;
    readonly bucket: string;
    /** Folder in the bucket, so several clusters can share one bucket. */
    readonly folder: string;
    readonly accessKey: string;
    readonly secretKey: string;
  };
}

/** One-time join material a kubeadm node gets from the first server. */
export interface JoinMaterial {
  readonly JOIN_TOKEN: string;
  readonly CA_CERT_HASH: string;
  readonly CERTIFICATE_KEY?: string;
}

export interface Distribution {
  readonly name: DistributionName;
  /** The pinned release used when the stack names none (Renovate bumps these lines). */
  readonly defaultVersion: string;
  /** What a version of this distribution looks like. */
  readonly versionPattern: RegExp;
  /** Pod and service networks, which must not overlap the VCN. */
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** kubectl with the admin kubeconfig, as run with sudo on a server. */
  readonly kubectl: string;
  /** The admin kubeconfig on the first server. */
  readonly kubeconfigPath: string;
  /** k3s and RKE2 join with a shared cluster token; kubeadm with short-lived join material. */
  readonly joinsWith: "token" | "material";
  /**
   * Who takes the scheduled etcd snapshots (and S3 uploads): the distribution itself, from its
   * config (k3s, RKE2), or the program's own snapshot tool on a cron schedule (kubeadm).
   */
  readonly etcdSnapshotsBy: "config" | "tool";
  /** The command that installs (or joins) a node; settings go on stdin. */
  installCommand(node: NodeFacts): string;
  /** The settings of that command, given the cluster (and, for kubeadm joins, fresh join material). */
  installSettings(node: NodeFacts, cluster: ClusterFacts, material?: JoinMaterial): Record<string, string>;
  /** The command, run on the first server, that prints join material for a node (kubeadm only). */
  joinMaterialCommand?(node: NodeFacts): string;
  /** The command, run on the first server after the join, that revokes that material (kubeadm only). */
  readonly revokeJoinMaterialCommand?: string;
}

const kubeletFlags = (node: NodeFacts) => {
  const r = reservations(node.memoryGb, node.role);
  return [
    `system-reserved=${r.systemReserved}`,
    `kube-reserved=${r.kubeReserved}`,
    `eviction-hard=${r.evictionHard}`,
    `resolv-conf=${UPSTREAM_RESOLV_CONF}`,
  ];
};

const yaml = (doc: unknown) => stringify(doc, { lineWidth: 0 });

/** The server config keys k3s and RKE2 share for etcd snapshots and their S3 upload. */
function etcdBackupConfig(backup?: EtcdBackup): Record<string, unknown> {
  if (!backup) return {};
  return {
    "etcd-snapshot-schedule-cron": backup.schedule,
    "etcd-snapshot-retention": backup.retention,
    ...(backup.s3
      ? {
          "etcd-s3": true,
          "etcd-s3-endpoint": backup.s3.endpoint,
          "etcd-s3-region": backup.s3.region,
          "etcd-s3-bucket": backup.s3.bucket,
          "etcd-s3-folder": backup.s3.folder,
          // OCI Object Storage's S3 endpoint serves buckets by path, not by host name.
          "etcd-s3-bucket-lookup-type": "path",
          "etcd-s3-access-key": backup.s3.accessKey,
          "etcd-s3-secret-key": backup.s3.secretKey,
          "etcd-s3-retention": backup.retention,
        }
      : {}),
  };
}

/** k3s and RKE2 share their config format and installer flow (rancher.sh). */
function rancher(options: {
  name: "k3s" | "rke2";
  defaultVersion: string;
  versionPattern: RegExp;
  joinPort: number;
  kubectl: string;
  kubeconfigPath: string;
  /** Bundled add-ons turned off (the platform brings its own), by the release installed. */
  disable: (version: string) => string[];
  serverExtras: Record<string, unknown>;
}): Distribution {
  return {
    name: options.name,
    defaultVersion: options.defaultVersion,
    versionPattern: options.versionPattern,
    podCidr: "10.42.0.0/16",
    serviceCidr: "10.43.0.0/16",
    kubectl: options.kubectl,
    kubeconfigPath: options.kubeconfigPath,
    joinsWith: "token",
    etcdSnapshotsBy: "config",
    installCommand: (node) => scriptCommand("rancher", options.name, node.role),
    installSettings: (node, cluster) => {
      if (!cluster.token) throw new Error(`${options.name} needs the cluster token`);
      const config: Record<string, unknown> = {
        token: cluster.token,
        ...(node.first ? {} : { server: `https://${cluster.firstServerIp}:${options.joinPort}` }),
        "node-name": node.name,
        "node-ip": node.privateIp,
        "protect-kernel-defaults": true,
        "kubelet-arg": kubeletFlags(node),
        ...(node.taints.length > 0 ? { "node-taint": node.taints.map(formatTaint) } : {}),
        ...(node.role === "server"
          ? {
              "advertise-address": node.privateIp,
              "tls-san": apiSans(cluster, node),
              "write-kubeconfig-mode": "0600",
              // The platform installs its own ingress, load balancing, storage and metrics.
              disable: options.disable(cluster.version),
              ...(node.first ? { "cluster-init": true } : {}),
              ...options.serverExtras,
              ...etcdBackupConfig(cluster.etcdBackup),
            }
          : {}),
        // An etcd-only member: a server with no API server, scheduler or controller manager
        // (k3s and RKE2 both take these keys); it joins through the first server and keeps
        // taking the cluster's etcd snapshots like any member.
        ...(node.role === "etcd"
          ? {
              "disable-apiserver": true,
              "disable-controller-manager": true,
              "disable-scheduler": true,
              ...etcdBackupConfig(cluster.etcdBackup),
            }
          : {}),
      };
      return {
        VERSION: cluster.version,
        CONFIG: yaml(config).trimEnd(),
        ...(node.role === "server" ? { KUBECTL: options.kubectl } : {}),
      };
    },
  };
}

export const K3S: Distribution = rancher({
  name: "k3s",
  // renovate: datasource=github-releases depName=k3s-io/k3s
  defaultVersion: "v1.34.9+k3s1",
  versionPattern: /^v1\.\d+\.\d+\+k3s\d+$/,
  joinPort: 6443,
  kubectl: "k3s kubectl",
  kubeconfigPath: "/etc/rancher/k3s/k3s.yaml",
  disable: () => ["traefik", "servicelb", "local-storage", "metrics-server"],
  // Secrets are encrypted at rest in etcd.
  serverExtras: { "secrets-encryption": true },
});

export const RKE2: Distribution = rancher({
  name: "rke2",
  // renovate: datasource=github-releases depName=rancher/rke2
  defaultVersion: "v1.34.9+rke2r1",
  versionPattern: /^v1\.\d+\.\d+\+rke2r\d+$/,
  // RKE2 agents and servers register on the supervisor port.
  joinPort: 9345,
  kubectl: "/var/lib/rancher/rke2/bin/kubectl --kubeconfig /etc/rancher/rke2/rke2.yaml",
  kubeconfigPath: "/etc/rancher/rke2/rke2.yaml",
  // RKE2 bundles Traefik from v1.36 (ingress-nginx before): it would take 80/443 from the
  // platform's ingress controller, so a Renovate bump across 1.36 must not turn it on.
  disable: (version) => ["rke2-ingress-nginx", "rke2-metrics-server", ...(minorOf(version) >= 36 ? ["rke2-traefik"] : [])],
  serverExtras: { cni: "canal" },
});

/** A server's API certificate names: the shared endpoints and the server's own addresses. */
function apiSans(cluster: ClusterFacts, node: NodeFacts): string[] {
  return [...new Set([...cluster.tlsSans, ...node.addresses])];
}

/** Flannel, the CNI the program installs on kubeadm clusters (VXLAN on UDP 8472, as k8s/ports.ts opens). */
export const FLANNEL_MANIFEST = "https://github.com/flannel-io/flannel/releases/download/v0.28.4/kube-flannel.yml";

const KUBEADM_API = "kubeadm.k8s.io/v1beta4";

function kubeadmRegistration(node: NodeFacts) {
  const r = reservations(node.memoryGb);
  return {
    name: node.name,
    // Servers also run workloads: no control-plane taint, only the node's own taints.
    taints: node.taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
    kubeletExtraArgs: [
      { name: "node-ip", value: node.privateIp },
      { name: "system-reserved", value: r.systemReserved },
      { name: "kube-reserved", value: r.kubeReserved },
      { name: "eviction-hard", value: r.evictionHard },
    ],
  };
}

export const KUBEADM: Distribution = {
  name: "kubeadm",
  // renovate: datasource=github-releases depName=kubernetes/kubernetes
  defaultVersion: "v1.34.9",
  versionPattern: /^v1\.\d+\.\d+$/,
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  kubectl: "kubectl --kubeconfig /etc/kubernetes/admin.conf",
  kubeconfigPath: "/etc/kubernetes/admin.conf",
  joinsWith: "material",
  etcdSnapshotsBy: "tool",
  installCommand: (node) => scriptCommand("kubeadm", node.first ? "init" : "join"),
  joinMaterialCommand: (node) => scriptCommand("kubeadm", "join-material", node.role),
  revokeJoinMaterialCommand: scriptCommand("kubeadm", "revoke"),
  installSettings: (node, cluster, material): Record<string, string> => {
    // With an internal API, the endpoint is a name each node resolves through /etc/hosts
    // (kubeadm.sh pins it): kubelets follow it, not the first server, so the API survives the
    // loss of any one server. Discovery still asks the first server, which runs the join.
    const endpoint = `${cluster.internalApi?.name ?? cluster.firstServerIp}:6443`;
    const discovery = `${cluster.firstServerIp}:6443`;
    const pin = cluster.internalApi
      ? {
          API_NAME: cluster.internalApi.name,
          API_ADDRESS: node.first ? node.privateIp : node.role === "server" ? cluster.firstServerIp : cluster.internalApi.address,
          ...(node.role === "server" && !node.first ? { API_ADDRESS_JOINED: node.privateIp } : {}),
        }
      : {};
    if (node.first) {
      const init = {
        apiVersion: KUBEADM_API,
        kind: "InitConfiguration",
        localAPIEndpoint: { advertiseAddress: node.privateIp, bindPort: 6443 },
        nodeRegistration: kubeadmRegistration(node),
      };
      const clusterConfig = {
        apiVersion: KUBEADM_API,
        kind: "ClusterConfiguration",
        clusterName: cluster.clusterName,
        kubernetesVersion: cluster.version,
        controlPlaneEndpoint: endpoint,
        // kubeadm keeps these cluster-wide; a joining server adds its own advertise address.
        apiServer: { certSANs: apiSans(cluster, node) },
        networking: { podSubnet: KUBEADM.podCidr, serviceSubnet: KUBEADM.serviceCidr },
      };
      const kubelet = {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        cgroupDriver: "systemd",
        resolvConf: UPSTREAM_RESOLV_CONF,
        protectKernelDefaults: true,
      };
      return {
        VERSION: cluster.version,
        CONFIG: [init, clusterConfig, kubelet].map(yaml).join("---\n").trimEnd(),
        CNI_MANIFEST: FLANNEL_MANIFEST,
        ...pin,
      };
    }
    if (!material) throw new Error(`kubeadm join of ${node.name} needs join material`);
    if (node.role === "server" && !material.CERTIFICATE_KEY)
      throw new Error(`kubeadm server join of ${node.name} needs a certificate key`);
    const join = {
      apiVersion: KUBEADM_API,
      kind: "JoinConfiguration",
      discovery: {
        bootstrapToken: { apiServerEndpoint: discovery, token: material.JOIN_TOKEN, caCertHashes: [material.CA_CERT_HASH] },
      },
      nodeRegistration: kubeadmRegistration(node),
      ...(node.role === "server"
        ? {
            controlPlane: {
              localAPIEndpoint: { advertiseAddress: node.privateIp, bindPort: 6443 },
              certificateKey: material.CERTIFICATE_KEY,
            },
          }
        : {}),
    };
    return { VERSION: cluster.version, CONFIG: yaml(join).trimEnd(), ...pin };
  },
};

export const DISTRIBUTIONS: Readonly<Record<DistributionName, Distribution>> = { k3s: K3S, kubeadm: KUBEADM, rke2: RKE2 };
