/**
 * kube-vip: a virtual IP for the API held by one server at a time (ARP, leader election), so the
 * API endpoint survives the loss of any server on machines with no cloud load balancer. It runs
 * as a static pod on every server, started once the server's own API is up (the kubeconfig it
 * elects a leader with exists then), as kube-vip documents for k3s and after `kubeadm init`.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { libScriptCommand } from "./scripts";

// Renovate bumps it with the other images pinned in code.
export const KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip:v1.0.4";

export interface ApiVip {
  /** The virtual IP: a free address on the servers' network. */
  readonly address: string;
  /** The servers' interface it is announced on; unset, each server's interface holding its privateIp. */
  readonly interface?: string;
}

/** Where kube-vip.sh puts the interface it checked (or found) into the manifest. */
export const VIP_INTERFACE_SLOT = "@VIP_INTERFACE@";

/**
 * The static pod manifest of one server: the VIP on its interface (filled in on the server by
 * kube-vip.sh), leader-elected with the server's admin kubeconfig under the node's own name
 * (`vip_nodename`; kube-vip takes the OS hostname otherwise, kube-vip v1.0.4
 * pkg/kubevip/config_envvar.go), so the lease holder is the Kubernetes node.
 */
export function kubeVipManifest(vip: ApiVip, kubeconfigPath: string, apiPort: number, nodeName: string): string {
  const env = {
    vip_arp: "true",
    port: String(apiPort),
    vip_interface: VIP_INTERFACE_SLOT,
    vip_nodename: nodeName,
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

const SCRIPT = fs.readFileSync(path.join(__dirname, "scripts", "kube-vip.sh"), "utf8");

/** The command that places the manifest (on stdin) at `manifestPath`, on the server with `nodeIp`. */
export function kubeVipCommand(vip: ApiVip, manifestPath: string, nodeIp: string): string {
  return libScriptCommand("kube-vip", SCRIPT, manifestPath, nodeIp, ...(vip.interface ? [vip.interface] : []));
}
