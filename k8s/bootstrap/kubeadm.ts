/** kubeadm: upstream Kubernetes, joined with short-lived join material, flannel as the CNI. */
import { API_PORT, COMMON_PORTS } from "../ports";
import { apiSans, ClusterFacts, Distribution, JoinMaterial, NodeFacts, yaml } from "./distribution";
import { reservations } from "./reserved";
import { scriptCommand } from "./scripts";

/** Flannel, the CNI the program installs on kubeadm clusters (VXLAN on UDP 8472, as k8s/ports.ts opens). */
export const FLANNEL_MANIFEST = "https://github.com/flannel-io/flannel/releases/download/v0.28.4/kube-flannel.yml";

const KUBEADM_API = "kubeadm.k8s.io/v1beta4";

/** Where every server keeps the API server's EncryptionConfiguration (root-only), mounted into its static pod. */
export const ENCRYPTION_CONFIG_PATH = "/etc/kubernetes/oci-k8s/encryption-config.yaml";

/**
 * Secrets encrypted at rest in etcd, as k3s and RKE2 do (so etcd snapshots in a bucket hold no
 * Secret in plain text): secretbox (XSalsa20-Poly1305) with the program's 32-byte key, identity
 * after it so Secrets written before still read (apiserver.config.k8s.io/v1 EncryptionConfiguration).
 */
export function encryptionConfig(key: string): string {
  return yaml({
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "EncryptionConfiguration",
    resources: [
      { resources: ["secrets"], providers: [{ secretbox: { keys: [{ name: "key1", secret: key }] } }, { identity: {} }] },
    ],
  }).trimEnd();
}

/**
 * On container hosts (ClusterFacts.containerHosts) every node shares its parent's cgroup v1
 * hierarchy, so each kubelet keeps its pods under a cgroup root of its own: two kubelets under
 * one root would each remove the other's pod cgroups as orphans.
 */
export const containerCgroupRoot = (node: NodeFacts) => `/oci-k8s-${node.name}`;

function kubeadmRegistration(node: NodeFacts, cluster: ClusterFacts) {
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
      // Per node, so a flag (kubeadm's KubeletConfiguration is one for the cluster).
      ...(cluster.containerHosts ? [{ name: "cgroup-root", value: containerCgroupRoot(node) }] : []),
    ],
  };
}

/** The first server's kubeadm init documents: InitConfiguration, ClusterConfiguration, KubeletConfiguration. */
function initConfig(node: NodeFacts, cluster: ClusterFacts, endpoint: string): string {
  const init = {
    apiVersion: KUBEADM_API,
    kind: "InitConfiguration",
    localAPIEndpoint: { advertiseAddress: node.privateIp, bindPort: API_PORT },
    nodeRegistration: kubeadmRegistration(node, cluster),
    // The token kubeadm init makes (its value generated) lives 15 minutes, not 24 hours: no
    // join uses it (each gets its own, kubeadm.sh join-material).
    bootstrapTokens: [
      { ttl: "15m0s", usages: ["signing", "authentication"], groups: ["system:bootstrappers:kubeadm:default-node-token"] },
    ],
  };
  const clusterConfig = {
    apiVersion: KUBEADM_API,
    kind: "ClusterConfiguration",
    clusterName: cluster.clusterName,
    kubernetesVersion: cluster.version,
    controlPlaneEndpoint: endpoint,
    // kubeadm keeps these cluster-wide; a joining server adds its own advertise address.
    // The API server reads its EncryptionConfiguration from a file each server writes first
    // (kubeadm v1beta4 APIServer.extraArgs / extraVolumes, a HostPathMount).
    apiServer: {
      certSANs: apiSans(cluster, node),
      extraArgs: [{ name: "encryption-provider-config", value: ENCRYPTION_CONFIG_PATH }],
      extraVolumes: [
        {
          name: "encryption-config",
          hostPath: ENCRYPTION_CONFIG_PATH,
          mountPath: ENCRYPTION_CONFIG_PATH,
          readOnly: true,
          pathType: "File",
        },
      ],
    },
    networking: { podSubnet: KUBEADM.podCidr, serviceSubnet: KUBEADM.serviceCidr },
  };
  const kubelet = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // A container host's systemd manages no cgroup controller of its own: the kubelet writes them itself.
    cgroupDriver: cluster.containerHosts ? "cgroupfs" : "systemd",
    resolvConf: node.resolvConf,
    protectKernelDefaults: true,
  };
  // A container host's network namespace may not write the kernel-wide nf_conntrack_max (it is
  // read-only outside the host's own), and kube-proxy stops when its write is refused: it leaves
  // the parent's value (maxPerCore 0, as kind configures kube-proxy for its nodes).
  const kubeProxy = {
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    conntrack: { maxPerCore: 0 },
  };
  return [init, clusterConfig, kubelet, ...(cluster.containerHosts ? [kubeProxy] : [])].map(yaml).join("---\n").trimEnd();
}

/** A joining node's kubeadm JoinConfiguration, discovering the cluster through `discovery`. */
function joinConfig(node: NodeFacts, cluster: ClusterFacts, material: JoinMaterial, discovery: string): string {
  const join = {
    apiVersion: KUBEADM_API,
    kind: "JoinConfiguration",
    discovery: {
      bootstrapToken: { apiServerEndpoint: discovery, token: material.JOIN_TOKEN, caCertHashes: [material.CA_CERT_HASH] },
    },
    nodeRegistration: kubeadmRegistration(node, cluster),
    ...(node.role === "server"
      ? {
          controlPlane: {
            localAPIEndpoint: { advertiseAddress: node.privateIp, bindPort: API_PORT },
            certificateKey: material.CERTIFICATE_KEY,
          },
        }
      : {}),
  };
  return yaml(join).trimEnd();
}

export const KUBEADM: Distribution = {
  name: "kubeadm",
  // renovate: datasource=github-releases depName=kubernetes/kubernetes
  defaultVersion: "v1.34.4",
  versionPattern: /^v1\.\d+\.\d+$/,
  apiPort: API_PORT,
  // kubeadm binds the scheduler and controller manager (10257/10259) to localhost, so only the
  // API, stacked etcd, kubelet and the flannel CNI the program installs cross the network.
  ports: COMMON_PORTS,
  podCidr: "10.244.0.0/16",
  serviceCidr: "10.96.0.0/12",
  kubectl: "kubectl --kubeconfig /etc/kubernetes/admin.conf",
  kubeconfigPath: "/etc/kubernetes/admin.conf",
  staticPodDir: "/etc/kubernetes/manifests",
  joinsWith: "material",
  encryptsWithOwnKey: true,
  etcdSnapshotsBy: "tool",
  snapshotDir: "/var/lib/oci-k8s/etcd-snapshots",
  script: "kubeadm",
  installCommand: (node) => scriptCommand("kubeadm", node.first ? "init" : "join"),
  joinMaterialCommand: (node) => scriptCommand("kubeadm", "join-material", node.role),
  revokeJoinMaterialCommand: scriptCommand("kubeadm", "revoke"),
  rejoinMaterialCommand: scriptCommand("kubeadm", "rejoin-material"),
  revokeRejoinMaterialCommand: scriptCommand("kubeadm", "revoke-rejoin"),
  installSettings: (node, cluster, material): Record<string, string> => {
    if (node.role === "server" && !cluster.encryptionKey) throw new Error("a kubeadm server needs the encryption key");
    const encryption: Record<string, string> =
      node.role === "server" ? { ENCRYPTION_CONFIG: encryptionConfig(cluster.encryptionKey!) } : {};
    // With an internal API, the endpoint is a name each node resolves through /etc/hosts
    // (kubeadm.sh pins it): kubelets follow it, not the first server, so the API survives the
    // loss of any one server. Discovery goes through the fixed address in front of the servers
    // when there is one: an agent's the internal API it waits for (the VIP, apiAddress or the load
    // balancer), a server's the VIP or apiAddress (held or there before its turn), else the first server.
    const endpoint = `${cluster.internalApi?.name ?? cluster.firstServerIp}:${API_PORT}`;
    const fixed = node.role === "agent" ? cluster.internalApi?.address : cluster.registrationAddress;
    const discovery = `${fixed ?? cluster.firstServerIp}:${API_PORT}`;
    const pin = cluster.internalApi
      ? {
          API_NAME: cluster.internalApi.name,
          API_ADDRESS: node.first ? node.privateIp : node.role === "server" ? cluster.firstServerIp : cluster.internalApi.address,
          ...(node.role === "server" && !node.first ? { API_ADDRESS_JOINED: node.privateIp } : {}),
        }
      : {};
    // containerd's cgroup driver matches the kubelet's; the kubelet's cgroup root exists before it
    // starts; no container gets an OOM score below containerd's (a container host may lack CAP_SYS_RESOURCE).
    const cgroups: Record<string, string> = cluster.containerHosts
      ? { CGROUP_DRIVER: "cgroupfs", CGROUP_ROOT: containerCgroupRoot(node), OOM_SCORE_ADJ_RESTRICTED: "true" }
      : {};
    if (node.first) {
      // Replaced while the cluster lives on (material from a live server): it joins as a
      // control-plane node, discovering the cluster at the fixed address or that server.
      const rejoin: Record<string, string> =
        material?.JOIN_TOKEN && material.via
          ? {
              REJOIN_CONFIG: joinConfig(node, cluster, material, `${cluster.registrationAddress ?? material.via}:${API_PORT}`),
              REJOIN_API_ADDRESS: material.via,
            }
          : {};
      return {
        VERSION: cluster.version,
        CONFIG: initConfig(node, cluster, endpoint),
        CNI_MANIFEST: FLANNEL_MANIFEST,
        NODE_IP: node.privateIp,
        ...encryption,
        ...pin,
        ...rejoin,
        ...cgroups,
      };
    }
    if (!material) throw new Error(`kubeadm join of ${node.name} needs join material`);
    if (node.role === "server" && !material.CERTIFICATE_KEY)
      throw new Error(`kubeadm server join of ${node.name} needs a certificate key`);
    return {
      VERSION: cluster.version,
      CONFIG: joinConfig(node, cluster, material, discovery),
      NODE_IP: node.privateIp,
      ...encryption,
      ...pin,
      ...cgroups,
    };
  },
};
