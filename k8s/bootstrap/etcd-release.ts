/**
 * The etcd release the restore drill runs on k3s and RKE2 servers, which embed etcd and ship no
 * etcd, etcdctl or etcdutl binary: the official tarball, downloaded once per server and checked
 * against its pinned sha256 before anything of it is installed. k3s and RKE2 v1.34 embed etcd
 * 3.6, whose snapshots etcdutl 3.6 restores.
 *
 * The sums are those kubespray pins for the same tarballs
 * (kubernetes-sigs/kubespray roles/kubespray_defaults/vars/main/checksums.yml, etcd_binary_checksums,
 * at commit 46dbdd3994b32640bcd806b0097f50e8fdf1d514). A version bump needs both sums from etcd's
 * release SHA256SUMS; a wrong sum makes the install refuse the download, and nothing is installed.
 */
export const ETCD_RELEASE = {
  version: "3.6.14",
  sha256: {
    arm64: "fa1b80565ee6fc2df1ae6f57a508b221f3ecc7d591c317c581cd8281b0842b3e",
    amd64: "ffe840ff9295808e88cce2794a18a5ac87f12a5203c8314d0bf6aa119b41bac5",
  },
} as const;

export type EtcdArch = keyof typeof ETCD_RELEASE.sha256;

export const etcdTarballUrl = (arch: EtcdArch, version: string = ETCD_RELEASE.version) =>
  `https://github.com/etcd-io/etcd/releases/download/v${version}/etcd-v${version}-linux-${arch}.tar.gz`;
