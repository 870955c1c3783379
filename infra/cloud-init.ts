/**
 * cloud-init host preparation: the cloud-config each node boots with. The scripts are real files
 * under infra/scripts/; this module only places them and the settings they read.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import {
  DATA_MOUNT_POINT,
  dataVolumeScript,
  HOST_READY_MARKER,
  KERNEL_MODULES,
  modulesFile,
  sysctlFile,
  SYSCTLS,
} from "../node-prep";

export { DATA_MOUNT_POINT, HOST_READY_MARKER, KERNEL_MODULES, SYSCTLS };

/** The consistent device path requested for the data volume's attachment. */
export const DATA_DEVICE = "/dev/oracleoci/oraclevdb";
/** Oracle's NTP service, reachable from every instance. */
export const OCI_NTP_SERVER = "169.254.169.254";

const SCRIPTS_DIR = path.join(__dirname, "scripts");
/** The nftables table that keeps pods off the instance metadata service (infra/scripts/metadata-guard.nft). */
export const METADATA_GUARD_TABLE = "ip oci_k8s_metadata";
export const METADATA_GUARD_UNIT = "oci-k8s-metadata-guard.service";
const script = (name: string) => fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");

export interface HostPrepOptions {
  /** Whether the node has a data volume to format once and mount. */
  readonly dataVolume: boolean;
  /**
   * The node's SSH host key, made by the program so every connection can pin it: cloud-init
   * installs it instead of generating keys (`ssh_keys`), and removes the image's own.
   */
  readonly hostKey?: { readonly privateKeyOpenssh: string; readonly publicKeyOpenssh: string };
}

const lines = (entries: string[]) => entries.map((e) => `${e}\n`).join("");

/** The cloud-config document of one node, as the YAML text cloud-init reads. */
export function renderCloudConfig(options: HostPrepOptions): string {
  const root = (p: string, content: string, permissions = "0644") => ({ path: p, content, owner: "root:root", permissions });
  const doc = {
    package_update: true,
    package_upgrade: false,
    packages: ["chrony", "unattended-upgrades", "iptables-persistent", "nftables"],
    ntp: { enabled: true, ntp_client: "chrony", servers: [OCI_NTP_SERVER] },
    write_files: [
      root("/etc/modules-load.d/oci-k8s.conf", modulesFile()),
      root("/etc/sysctl.d/90-oci-k8s.conf", sysctlFile()),
      // Security updates every day; reboots are left to the cluster's reboot coordinator.
      root(
        "/etc/apt/apt.conf.d/20auto-upgrades",
        lines(['APT::Periodic::Update-Package-Lists "1";', 'APT::Periodic::Unattended-Upgrade "1";']),
      ),
      root(
        "/etc/apt/apt.conf.d/52oci-k8s-unattended-upgrades",
        lines(['Unattended-Upgrade::Automatic-Reboot "false";', 'Unattended-Upgrade::Remove-Unused-Kernel-Packages "true";']),
      ),
      root(
        "/etc/oci-k8s/node.env",
        lines([
          `DATA_VOLUME=${options.dataVolume ? "yes" : "no"}`,
          `DATA_MOUNT_POINT=${DATA_MOUNT_POINT}`,
          `OCI_K8S_DATA_DEVICE=${DATA_DEVICE}`,
          `READY_MARKER=${HOST_READY_MARKER}`,
        ]),
      ),
      root("/usr/local/sbin/oci-k8s-firewall-fix", script("oci-firewall-fix.sh"), "0755"),
      // Pods off 169.254.169.254, whose user data holds the host key below; host prep enables it.
      root("/etc/oci-k8s/metadata-guard.nft", script("metadata-guard.nft")),
      root(`/etc/systemd/system/${METADATA_GUARD_UNIT}`, script(METADATA_GUARD_UNIT)),
      root("/usr/local/sbin/oci-k8s-data-volume", dataVolumeScript(), "0755"),
      root("/usr/local/sbin/oci-k8s-host-prep", script("host-prep.sh"), "0755"),
    ],
    runcmd: [["/usr/local/sbin/oci-k8s-host-prep"]],
    // With ssh_keys given, cloud-init writes exactly these host keys (after deleting the image's)
    // and generates no others, so sshd offers only the key the program pins.
    ...(options.hostKey
      ? {
          ssh_deletekeys: true,
          ssh_keys: {
            ed25519_private: options.hostKey.privateKeyOpenssh,
            ed25519_public: options.hostKey.publicKeyOpenssh.trim(),
          },
        }
      : {}),
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

/** The instance's `user_data` metadata value. */
export function userData(options: HostPrepOptions): string {
  return Buffer.from(renderCloudConfig(options), "utf8").toString("base64");
}
