/**
 * What the kubeadm node's files are, shared by the cluster suite and the systemd unit check: the
 * kubelet unit Kubernetes' packages install, and the pinned flannel release's manifest in the Go
 * module cache (tools/kube/build-addons.sh fetches the module).
 */
import * as path from "path";
import { FLANNEL_MANIFEST } from "../../k8s/bootstrap/kubeadm";
import { must } from "../tools";

export const FLANNEL_VERSION = /\/download\/(v[\d.]+)\//.exec(FLANNEL_MANIFEST)![1];

/** The module's copy of the pinned flannel release's kube-flannel.yml. */
export function flannelManifestPath(): string {
  const modCache = must("go", ["env", "GOMODCACHE"]).trim();
  return path.join(modCache, "github.com", "flannel-io", `flannel@${FLANNEL_VERSION}`, "Documentation", "kube-flannel.yml");
}

/**
 * The kubelet unit the Kubernetes packages install (kubernetes/release,
 * cmd/krel/templates/latest/kubelet/kubelet.service), which kubernetes.io's install without a
 * package manager places.
 */
export const KUBELET_SERVICE = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;
