/**
 * What every machine gets before Kubernetes, on any platform: the kernel modules and settings
 * container networking needs, where the data disk is mounted, and the marker the bootstrap waits
 * for. Oracle Cloud nodes get it through cloud-init (infra/cloud-init.ts), existing hosts over SSH
 * (hosts/); both place the same data-volume script.
 */
import * as fs from "fs";
import * as path from "path";

/** Written as the last step of host preparation; the cluster bootstrap waits for it. */
export const HOST_READY_MARKER = "/var/lib/oci-k8s/host-ready";
/** Where a node's data volume is mounted (local-path and Longhorn storage live here). */
export const DATA_MOUNT_POINT = "/var/mnt/k8s-data";

/** Kernel modules container networking needs, loaded now and at every boot. */
export const KERNEL_MODULES = ["overlay", "br_netfilter"];

/** Kernel settings for Kubernetes; the panic/overcommit values are the ones kubelet's protectKernelDefaults expects. */
export const SYSCTLS: Readonly<Record<string, string>> = {
  "net.bridge.bridge-nf-call-iptables": "1",
  "net.bridge.bridge-nf-call-ip6tables": "1",
  "net.ipv4.ip_forward": "1",
  "fs.inotify.max_user_instances": "8192",
  "fs.inotify.max_user_watches": "524288",
  "vm.overcommit_memory": "1",
  "vm.panic_on_oom": "0",
  "kernel.panic": "10",
  "kernel.panic_on_oops": "1",
};

/** The lines of /etc/modules-load.d/oci-k8s.conf. */
export const modulesFile = () => KERNEL_MODULES.map((m) => `${m}\n`).join("");
/** The lines of /etc/sysctl.d/90-oci-k8s.conf. */
export const sysctlFile = () =>
  Object.entries(SYSCTLS)
    .map(([k, v]) => `${k} = ${v}\n`)
    .join("");

/** data-volume.sh: formats the data disk once (never again) and mounts it by UUID. */
export function dataVolumeScript(): string {
  return fs.readFileSync(path.join(__dirname, "scripts", "data-volume.sh"), "utf8");
}
