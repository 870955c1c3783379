/**
 * kube-vip: a virtual IP for the API held by one server at a time (ARP, leader election), so the
 * API endpoint survives the loss of any server on machines with no cloud load balancer. It runs
 * as a static pod on every server, started once the server's own API is up (the kubeconfig it
 * elects a leader with exists then), as kube-vip documents for k3s and after `kubeadm init`.
 */
import { stringify } from "yaml";

// Renovate bumps it with the other images pinned in code.
export const KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip:v1.0.4";

export interface ApiVip {
  /** The virtual IP: a free address on the servers' network. */
  readonly address: string;
  /** The servers' interface it is announced on. */
  readonly interface: string;
}

/** The static pod manifest: the VIP on `vip.interface`, leader-elected with the server's admin kubeconfig. */
export function kubeVipManifest(vip: ApiVip, kubeconfigPath: string, apiPort: number): string {
  const env = {
    vip_arp: "true",
    port: String(apiPort),
    vip_interface: vip.interface,
    vip_subnet: "32",
    cp_enable: "true",
    cp_namespace: "kube-system",
    vip_leaderelection: "true",
    vip_leasename: "plndr-cp-lock",
    vip_leaseduration: "5",
    vip_renewdeadline: "3",
    vip_retryperiod: "1",
    address: vip.address,
  };
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "kube-vip", namespace: "kube-system" },
    spec: {
      containers: [
        {
          name: "kube-vip",
          image: KUBE_VIP_IMAGE,
          imagePullPolicy: "IfNotPresent",
          args: ["manager"],
          env: Object.entries(env).map(([name, value]) => ({ name, value })),
          securityContext: { capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
          volumeMounts: [{ name: "kubeconfig", mountPath: "/etc/kubernetes/admin.conf", readOnly: true }],
          resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "96Mi" } },
        },
      ],
      // The server's kubeconfig names the API by these (k3s/RKE2: 127.0.0.1; kubeadm: its endpoint pinned in /etc/hosts).
      hostAliases: [{ ip: "127.0.0.1", hostnames: ["kubernetes"] }],
      hostNetwork: true,
      volumes: [{ name: "kubeconfig", hostPath: { path: kubeconfigPath, type: "File" } }],
    },
  };
  return stringify(pod, { lineWidth: 0 });
}
