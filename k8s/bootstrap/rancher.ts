/** k3s (the default) and RKE2: one config format and installer flow (rancher.sh), a shared cluster token. */
import { formatTaint } from "../labels";
import { API_PORT, COMMON_PORTS, portRule } from "../ports";
import { apiSans, ClusterFacts, Distribution, EtcdBackup, kubeletFlags, NodeFacts, yaml } from "./distribution";
import { scriptCommand } from "./scripts";
import { minorOf } from "./versions";

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
          "etcd-s3-bucket-lookup-type": backup.s3.bucketLookup,
          "etcd-s3-access-key": backup.s3.accessKey,
          "etcd-s3-secret-key": backup.s3.secretKey,
          "etcd-s3-retention": backup.retention,
        }
      : {}),
  };
}

/**
 * A regular expression matching exactly the IPv4 addresses (dotted decimal, as Go's net.IP
 * String() writes them) inside `cidr`: octets the prefix fixes literally, the one it cuts as the
 * alternation of its values, the free ones as any number. Syntax common to Go's RE2 and
 * JavaScript. Throws on a malformed CIDR (config/ has checked it before).
 */
export function cidrRegex(cidr: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefix > 32) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  return octets
    .map((octet, i) => {
      const bits = Math.min(8, Math.max(0, prefix - 8 * i));
      if (bits === 8) return String(octet);
      if (bits === 0) return "\\d{1,3}";
      const size = 2 ** (8 - bits);
      const low = octet - (octet % size);
      return `(?:${Array.from({ length: size }, (_, k) => low + k).join("|")})`;
    })
    .join("\\.");
}

/**
 * RKE2's Canal: flannel's VXLAN leaves by the interface holding each node's private IP, not the
 * default route's (the host firewall admits 8472/udp from the private IPs only). One value serves
 * every node: flannel matches `--iface-regex` against each interface's IPv4 addresses before
 * names (flannel-io/flannel pkg/ipmatch/match.go, LookupExtIface), so a regex of the nodes' IPs
 * picks, on each node, the interface holding its own (rke2-charts packages/rke2-canal:
 * flannel.regexIface → FLANNELD_IFACE_REGEX). The nodes' IPs where they are known before any
 * machine exists (existing hosts); else the networks holding them, from config (an Oracle Cloud
 * VCN: an instance's IP would make the server's install wait for instances that wait for it).
 */
function canalConfig(cluster: ClusterFacts): string | undefined {
  const alternatives = cluster.nodeIps?.length
    ? cluster.nodeIps.map((ip) => ip.replace(/\./g, "\\."))
    : (cluster.nodeNetworks ?? []).map(cidrRegex);
  if (alternatives.length === 0) return undefined;
  const regex = `^(${alternatives.join("|")})$`;
  return yaml({
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChartConfig",
    metadata: { name: "rke2-canal", namespace: "kube-system" },
    spec: { valuesContent: yaml({ flannel: { regexIface: regex } }).trimEnd() },
  }).trimEnd();
}

/** k3s and RKE2 options: what sets one apart from the other. */
interface RancherOptions {
  name: "k3s" | "rke2";
  defaultVersion: string;
  versionPattern: RegExp;
  /** Where nodes register: the API port (k3s), or a supervisor port of its own (RKE2). */
  joinPort: number;
  kubectl: string;
  kubeconfigPath: string;
  /** Bundled add-ons turned off (the platform brings its own), by the release installed. */
  disable: (version: string) => string[];
  serverExtras: Record<string, unknown>;
}

/** The config keys of a server-kind node (API server or etcd-only member); none for an agent. */
function serverSettings(options: RancherOptions, node: NodeFacts, cluster: ClusterFacts): Record<string, unknown> {
  return {
    ...(node.role !== "agent"
      ? {
          // The platform installs its own ingress, load balancing, storage and metrics.
          disable: options.disable(cluster.version),
          ...options.serverExtras,
          ...(node.first ? { "cluster-init": true } : {}),
          ...etcdBackupConfig(cluster.etcdBackup),
        }
      : {}),
    ...(node.role === "server"
      ? {
          "advertise-address": node.privateIp,
          "tls-san": apiSans(cluster, node),
          "write-kubeconfig-mode": "0600",
        }
      : {}),
    // An etcd-only member: a server with no API server, scheduler or controller manager
    // (k3s and RKE2 both take these keys); it joins like any server and keeps taking the
    // cluster's etcd snapshots like any member.
    ...(node.role === "etcd"
      ? {
          "disable-apiserver": true,
          "disable-controller-manager": true,
          "disable-scheduler": true,
        }
      : {}),
  };
}

/** k3s and RKE2 share their config format and installer flow (rancher.sh). */
function rancher(options: RancherOptions): Distribution {
  return {
    name: options.name,
    defaultVersion: options.defaultVersion,
    versionPattern: options.versionPattern,
    apiPort: API_PORT,
    ports:
      options.joinPort === API_PORT
        ? COMMON_PORTS
        : [
            portRule("tcp", options.joinPort, "nodes", "servers", `${options.name.toUpperCase()} supervisor (node registration)`),
            ...COMMON_PORTS,
          ],
    podCidr: "10.42.0.0/16",
    serviceCidr: "10.43.0.0/16",
    kubectl: options.kubectl,
    kubeconfigPath: options.kubeconfigPath,
    staticPodDir: `/var/lib/rancher/${options.name}/agent/pod-manifests`,
    joinsWith: "token",
    etcdSnapshotsBy: "config",
    snapshotDir: `/var/lib/rancher/${options.name}/server/db/snapshots`,
    script: "rancher",
    installCommand: (node) => scriptCommand("rancher", options.name, node.role),
    installSettings: (node, cluster) => {
      if (!cluster.token) throw new Error(`${options.name} needs the cluster token`);
      const config: Record<string, unknown> = {
        token: cluster.token,
        // Nodes join through the fixed registration address when there is one (k3s and RKE2 docs,
        // "Cluster Load Balancer" / fixed registration address: RKE2 needs its 9345 there too).
        ...(node.first ? {} : { server: `https://${cluster.registrationAddress ?? cluster.firstServerIp}:${options.joinPort}` }),
        "node-name": node.name,
        "node-ip": node.privateIp,
        "protect-kernel-defaults": true,
        // RKE2's etcd member runs etcd and kube-proxy as static pods: its kubelet keeps room for pods.
        "kubelet-arg": kubeletFlags(node, options.name === "rke2" && node.role === "etcd" ? "agent" : node.role),
        ...(node.taints.length > 0 ? { "node-taint": node.taints.map(formatTaint) } : {}),
        // Every server-kind node (API servers and etcd-only members) carries the cluster-wide
        // server settings: k3s compares its critical control values (secrets-encryption, the
        // servicelb of `disable`, ...) on every joining server and refuses a mismatch, and RKE2
        // adds its `cni` selection to them.
        ...serverSettings(options, node, cluster),
      };
      // A replaced first server finds the cluster it founded and joins it instead of starting anew.
      const rejoin = node.first
        ? [...(cluster.registrationAddress ? [cluster.registrationAddress] : []), ...(cluster.otherServerIps ?? [])]
        : [];
      const canal = options.name === "rke2" && node.role === "server" ? canalConfig(cluster) : undefined;
      return {
        VERSION: cluster.version,
        CONFIG: yaml(config).trimEnd(),
        NODE_IP: node.privateIp,
        ...(node.role === "server" ? { KUBECTL: options.kubectl } : {}),
        ...(canal ? { CANAL_CONFIG: canal } : {}),
        ...(rejoin.length > 0 ? { REJOIN_URLS: rejoin.map((a) => `https://${a}:${options.joinPort}`).join(" ") } : {}),
      };
    },
  };
}

export const K3S: Distribution = rancher({
  name: "k3s",
  // renovate: datasource=github-releases depName=k3s-io/k3s
  defaultVersion: "v1.34.9+k3s1",
  versionPattern: /^v1\.\d+\.\d+\+k3s\d+$/,
  joinPort: API_PORT,
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
