/** Pinned release files for air-gapped installs (config/artifacts.ts), and the settings rancher.sh reads them from. */
import type { DistributionName } from "./distribution";

export interface Artifacts {
  /** An http(s) URL of a mirror, or an absolute directory on every host. */
  readonly source: string;
  /** sha256 of each file, by its release name. */
  readonly sha256: Readonly<Record<string, string>>;
}

/**
 * The release files each distribution's air-gapped install reads, by their upstream asset names:
 * k3s's installer, binary and image tarball (k3s docs, "Air-Gap Install"); RKE2's installer and
 * the tarball-method files of INSTALL_RKE2_ARTIFACT_PATH (RKE2 docs, "Air-Gap Install"); kubeadm's
 * install "without a package manager" (kubernetes.io, Installing kubeadm): the kubeadm, kubelet
 * and kubectl release binaries (`-arm64` for arm64, as k3s names its binaries), the packages'
 * kubelet.service and its 10-kubeadm.conf drop-in, the CNI plugins' release tarball, the
 * images kubeadm and flannel pull as one `docker save` tarball, and the flannel manifest.
 */
export const ARTIFACT_FILES: Readonly<Partial<Record<DistributionName, readonly string[]>>> = {
  k3s: ["install.sh", "k3s", "k3s-arm64", "k3s-airgap-images-amd64.tar.zst", "k3s-airgap-images-arm64.tar.zst"],
  rke2: [
    "install.sh",
    ...["amd64", "arm64"].flatMap((a) => [`rke2.linux-${a}.tar.gz`, `rke2-images.linux-${a}.tar.zst`, `sha256sum-${a}.txt`]),
  ],
  kubeadm: [
    ...["", "-arm64"].flatMap((arch) => ["kubeadm", "kubelet", "kubectl"].map((b) => `${b}${arch}`)),
    "kubelet.service",
    "10-kubeadm.conf",
    ...["amd64", "arm64"].flatMap((a) => [`cni-plugins-linux-${a}.tgz`, `kube-images-${a}.tar`]),
    "kube-flannel.yml",
  ],
};

/** The file every node of the distribution reads first, which artifactSha256 must pin. */
export const FIRST_ARTIFACT: Readonly<Partial<Record<DistributionName, string>>> = {
  k3s: "install.sh",
  rke2: "install.sh",
  kubeadm: "kubeadm",
};

/** The install's settings for the artifacts: where they are, and one "NAME SHA256" line per file. */
export function artifactSettings(a?: Artifacts): Record<string, string> {
  if (!a) return {};
  return {
    ARTIFACT_SOURCE: a.source,
    ARTIFACTS: Object.entries(a.sha256)
      .map(([name, digest]) => `${name} ${digest}`)
      .join("\n"),
  };
}
