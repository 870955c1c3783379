/**
 * The one interface every Kubernetes distribution implements (k3s, RKE2 and kubeadm implement
 * it in rancher.ts and kubeadm.ts). A distribution turns a node's plain facts into the command
 * that installs it and the settings (its config file) sent on stdin, and owns the ports its
 * nodes open to each other.
 */
import { stringify } from "yaml";
import type { Taint } from "../labels";
import type { PortRule } from "../ports";
import { reservations } from "./reserved";
import type { ScriptName } from "./scripts";
import type { NodeRole } from "./types";

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
  /** The resolv.conf with the host's real upstream resolvers, which the kubelet hands pods. */
  readonly resolvConf: string;
}

/** What a distribution needs to know of the cluster. */
export interface ClusterFacts {
  readonly clusterName: string;
  readonly version: string;
  /** Private IP of the first server: where other nodes join when there is no fixed registration address. */
  readonly firstServerIp: string;
  /**
   * A fixed registration address in front of the servers (the kube-vip VIP, or `apiAddress`):
   * where nodes join, so no join depends on the first server, and a replaced first server can
   * rejoin through it.
   */
  readonly registrationAddress?: string;
  /** The other servers' private IPs, when known before any machine exists: where a replaced first server rejoins. */
  readonly otherServerIps?: readonly string[];
  /** Names and addresses every server's API certificate must be valid for (the shared endpoints). */
  readonly tlsSans: readonly string[];
  /**
   * kubeadm: the control-plane endpoint's name, and the address agents reach it at (a load
   * balancer over the servers). Servers resolve the name to themselves (the first server always,
   * a joining one once it has joined), so no server's install waits for the load balancer.
   */
  readonly internalApi?: { readonly name: string; readonly address: string };
  /**
   * Every node's private IP, when all are known before any machine exists (existing hosts; an
   * Oracle Cloud node's comes from its instance, which a server's install must never wait for).
   */
  readonly nodeIps?: readonly string[];
  /** The CIDRs the nodes' private addresses are in, from config (an Oracle Cloud VCN), when nodeIps are not known. */
  readonly nodeNetworks?: readonly string[];
  /** The key Secrets are encrypted with at rest, base64 of 32 random bytes (kubeadm; k3s and RKE2 make their own). */
  readonly encryptionKey?: string;
  /**
   * kubeadm: the hosts are system containers (LXC, systemd-nspawn) sharing their parent's kernel
   * and cgroup hierarchy: the cgroupfs driver, and a cgroup root of each node's own.
   */
  readonly containerHosts?: boolean;
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
    /** How buckets are addressed: by path (OCI Object Storage's S3 endpoint, MinIO) or by host name. */
    readonly bucketLookup: "path" | "dns";
    /**
     * The operator's recovery certificate (PEM): each server's recovery bundle (cluster token or
     * kubeadm's CAs and encryption config, Sealed Secrets keys) is encrypted to it beside the snapshots.
     */
    readonly recoveryCertificate: string;
  };
}

/** What the old cluster gives a rebuild from the bucket on a new stack (secret): used in place of new ones. */
export interface Restored {
  readonly clusterToken?: string;
  readonly encryptionKey?: string;
  /** base64 of a tar.gz of kubeadm's CAs and service-account key (etc/kubernetes/pki/...). */
  readonly kubeadmPki?: string;
}

/** One-time join material a kubeadm node gets from the first server. */
export interface JoinMaterial {
  readonly JOIN_TOKEN: string;
  readonly CA_CERT_HASH: string;
  readonly CERTIFICATE_KEY?: string;
  /** A replaced first server's material: the private IP of the live server that made it, where it rejoins. */
  readonly via?: string;
}

export interface Distribution {
  readonly name: DistributionName;
  /** The pinned release used when the stack names none (Renovate bumps these lines). */
  readonly defaultVersion: string;
  /** What a version of this distribution looks like. */
  readonly versionPattern: RegExp;
  /** The port the Kubernetes API listens on. */
  readonly apiPort: number;
  /** Every port its nodes open to each other; nothing else is opened between nodes. */
  readonly ports: readonly PortRule[];
  /** Pod and service networks, which must not overlap the nodes' network. */
  readonly podCidr: string;
  readonly serviceCidr: string;
  /** kubectl with the admin kubeconfig, as run with sudo on a server. */
  readonly kubectl: string;
  /** The admin kubeconfig on the first server. */
  readonly kubeconfigPath: string;
  /** Where the kubelet reads static pod manifests (kube-vip goes there). */
  readonly staticPodDir: string;
  /** The program makes the key Secrets are encrypted with at rest (kubeadm); k3s and RKE2 make their own. */
  readonly encryptsWithOwnKey?: boolean;
  /** k3s and RKE2 join with a shared cluster token; kubeadm with short-lived join material. */
  readonly joinsWith: "token" | "material";
  /**
   * Who takes the scheduled etcd snapshots (and S3 uploads): the distribution itself, from its
   * config (k3s, RKE2), or the program's own snapshot tool on a cron schedule (kubeadm).
   */
  readonly etcdSnapshotsBy: "config" | "tool";
  /** Where a server keeps its etcd snapshots (the restore drill reads the newest). */
  readonly snapshotDir: string;
  /** The script its install, join-material and revoke commands run (sent on their stdin, ahead of the settings). */
  readonly script: ScriptName;
  /** The command that installs (or joins) a node; the script and its settings go on stdin. */
  installCommand(node: NodeFacts): string;
  /** The settings of that command, given the cluster (and, for kubeadm joins, fresh join material). */
  installSettings(node: NodeFacts, cluster: ClusterFacts, material?: JoinMaterial): Record<string, string>;
  /** The command, run on the first server, that prints join material for a node (kubeadm only). */
  joinMaterialCommand?(node: NodeFacts): string;
  /** The command, run on the first server after the join, that revokes that material (kubeadm only). */
  readonly revokeJoinMaterialCommand?: string;
  /**
   * The command, run on another server before the first server's install, that prints join
   * material only when the first server was replaced and the cluster lives on (kubeadm only; k3s
   * and RKE2 rejoin with their token, rancher.sh REJOIN_URLS). Settings: FIRST_NAME.
   */
  readonly rejoinMaterialCommand?: string;
  /** The command, run on that server after the first server's install, that revokes that material if any. */
  readonly revokeRejoinMaterialCommand?: string;
}

/** The kubelet's reservations and resolv.conf; `reserveAs` sizes them for another role (RKE2's etcd member runs pods). */
export const kubeletFlags = (node: NodeFacts, reserveAs: NodeRole = node.role) => {
  const r = reservations(node.memoryGb, reserveAs);
  return [
    `system-reserved=${r.systemReserved}`,
    `kube-reserved=${r.kubeReserved}`,
    `eviction-hard=${r.evictionHard}`,
    `resolv-conf=${node.resolvConf}`,
  ];
};

export const yaml = (doc: unknown) => stringify(doc, { lineWidth: 0 });

/** A server's API certificate names: the shared endpoints and the server's own addresses. */
export function apiSans(cluster: ClusterFacts, node: NodeFacts): string[] {
  return [...new Set([...cluster.tlsSans, ...node.addresses])];
}
