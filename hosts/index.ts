/**
 * Existing machines as cluster hosts: each is prepared over SSH (what cloud-init does on Oracle
 * Cloud, nothing Oracle-specific), optionally firewalled with the cluster's port table, and handed
 * to the bootstrap as a plain host. Nothing here creates a cloud resource.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { remoteCommand } from "../k8s/bootstrap/remote";
import { encodeSettings, libScriptCommand, libScriptStdin } from "../k8s/bootstrap/scripts";
import { connector } from "../k8s/bootstrap/ssh";
import type { Host, SshAccess } from "../k8s/bootstrap/types";
import type { Taint } from "../k8s/labels";
import { DATA_MOUNT_POINT, dataVolumeScript, HOST_READY_MARKER, modulesFile, sysctlFile } from "../node-prep";
import { FirewallPlan, renderRuleset } from "./firewall";

/** The kubelet's resolv.conf on an existing host: the real upstream resolvers prepare-host.sh found. */
export const HOST_RESOLV_CONF = "/etc/oci-k8s/resolv.conf";

const script = (name: string) => fs.readFileSync(path.join(__dirname, "scripts", `${name}.sh`), "utf8");

/** An existing machine, every default resolved. */
export interface ExistingHost {
  readonly name: string;
  readonly role: Host["role"];
  readonly address: string;
  readonly privateIp: string;
  readonly user: string;
  readonly arch: string;
  readonly memoryGb: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly ingress: boolean;
  readonly dataDisk?: string;
  /** Leave the data disk raw (Rook-Ceph) instead of formatting and mounting it. */
  readonly rawDisk: boolean;
  readonly hostKey?: string;
}

export interface HostsSpec {
  readonly hosts: readonly ExistingHost[];
  readonly ssh: SshAccess;
  /** Resolvers for hosts that have none but a local stub. */
  readonly upstreamDns: readonly string[];
  /** Packages the chosen storage needs on every host (open-iscsi for Longhorn, lvm2 for Ceph). */
  readonly packages: readonly string[];
  /** The distribution the hosts will run: kubeadm's containerd package conflicts with Docker's. */
  readonly distribution: "k3s" | "rke2" | "kubeadm";
  /** The port table to apply with nftables on each host, or none. */
  readonly firewall?: Omit<FirewallPlan, "hosts">;
}

/** The settings prepare-host.sh gets on stdin for a host. */
export function prepareSettings(
  h: Pick<ExistingHost, "dataDisk" | "rawDisk">,
  spec: Pick<HostsSpec, "upstreamDns" | "packages" | "distribution">,
): Record<string, string> {
  return {
    DISTRIBUTION: spec.distribution,
    MODULES: modulesFile(),
    SYSCTLS: sysctlFile(),
    DATA_VOLUME_SCRIPT: dataVolumeScript(),
    DATA_MOUNT_POINT,
    RESOLV_CONF: HOST_RESOLV_CONF,
    READY_MARKER: HOST_READY_MARKER,
    ...(h.dataDisk ? { DATA_DISK: h.dataDisk, DATA_DISK_RAW: h.rawDisk ? "yes" : "no" } : {}),
    ...(spec.upstreamDns.length > 0 ? { UPSTREAM_DNS: spec.upstreamDns.join(" ") } : {}),
    ...(spec.packages.length > 0 ? { PACKAGES: spec.packages.join(" ") } : {}),
  };
}

/** What a host's machine is, for the rollout: existing machines are never resized by the program. */
export const existingMachine = (h: { arch?: string; memoryGb: number }) => `existing ${h.arch} ${h.memoryGb} GB`;

/** Prepares every host and returns them as the bootstrap's hosts. */
export function prepareHosts(spec: HostsSpec): Host[] {
  const viaBastion = spec.ssh.bastion !== undefined;
  const hosts = spec.hosts.map((h) => ({ ...asHost(h, []), viaBastion }));
  const connect = connector(spec.ssh, hosts);
  const firewall: FirewallPlan | undefined = spec.firewall && { ...spec.firewall, hosts: spec.hosts };
  return spec.hosts.map((h, i) => {
    const connection = connect(hosts[i]);
    const prepared = remoteCommand(
      `${h.name}-prepare`,
      {
        connection,
        create: libScriptCommand("prepare-host", script("prepare-host")),
        // Destroy removes what the preparation wrote, after the distribution's uninstall (which
        // waits for the host, and so for this: deleted first). The delete gets the stdin kept in
        // the state, the script and settings of the last apply.
        delete: libScriptCommand("prepare-host", script("prepare-host"), "remove"),
        stdin: libScriptStdin(script("prepare-host"), encodeSettings(prepareSettings(h, spec))),
        triggers: [machineId(h)],
      },
      // A replacement (the machine behind the name changed; or the same machine got its host key
      // pinned) removes the old preparation before the new one writes its files and marker: never
      // after, which on the same machine would take away the marker and resolv.conf just written.
      { deleteBeforeReplace: true },
    );
    const ready: pulumi.Resource[] = [prepared];
    if (firewall) {
      ready.push(
        remoteCommand(
          `${h.name}-firewall`,
          {
            connection,
            create: libScriptCommand("host-firewall", script("host-firewall"), "apply"),
            delete: libScriptCommand("host-firewall", script("host-firewall"), "remove"),
            // apply and remove run the same script; the delete gets the stdin kept in the state.
            stdin: libScriptStdin(script("host-firewall"), encodeSettings({ RULESET: renderRuleset(firewall, h) })),
            triggers: [machineId(h)],
          },
          // As the preparation: on the same machine, a remove after the new apply would leave it open.
          { dependsOn: [prepared], deleteBeforeReplace: true },
        ),
      );
    }
    return { ...hosts[i], dependsOn: ready };
  });
}

/** Changes when the machine behind the name is another one (a new address or host key). */
const machineId = (h: ExistingHost) => [h.address, h.hostKey ?? ""].join(" ").trim();

function asHost(h: ExistingHost, ready: pulumi.Resource[]): Omit<Host, "viaBastion"> {
  return {
    name: h.name,
    role: h.role,
    arch: h.arch,
    address: h.address,
    privateIp: h.privateIp,
    memoryGb: h.memoryGb,
    labels: h.labels,
    taints: h.taints,
    machineId: machineId(h),
    machine: existingMachine(h),
    dependsOn: ready,
    hostKey: h.hostKey,
    user: h.user,
    resolvConf: HOST_RESOLV_CONF,
    // Prepared over SSH by prepare-host.sh: its marker alone says the host is ready.
    cloudInit: false,
  };
}
