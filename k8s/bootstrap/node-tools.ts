/**
 * What each node gets after its install: the etcd tools on servers (restore, the recovery bundle
 * with a bucket, and on kubeadm the snapshot schedule and its restore drill), the kernel held or released, its labels and taints,
 * and the commands that retire it when it leaves the stack.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { formatTaint } from "../labels";
import type { Distribution, EtcdBackup } from "./distributions";
import { ETCD_RELEASE, etcdTarballUrl } from "./etcd-release";
import { remoteCommand } from "./remote";
import { encodeSettings, scriptCommand, scriptStdin, scriptText } from "./scripts";
import type { Connect } from "./ssh";
import type { Turn } from "./turns";
import type { Host } from "./types";

/** When the etcd restore drill runs on servers (after the 00:00 snapshot of the default schedules). */
export const ETCD_DRILL_SCHEDULE = "30 4 * * *";

export interface NodeToolsArgs {
  readonly parent: pulumi.Resource;
  readonly distribution: Distribution;
  readonly connect: Connect;
  /** The connection to the first server, where kubectl runs. */
  readonly onFirst: command.types.input.remote.ConnectionArgs;
  readonly etcdBackup?: pulumi.Input<EtcdBackup>;
  /** The etcd backup has a bucket: each server also uploads its recovery bundle (recovery.sh). */
  readonly recoveryBundles?: boolean;
  readonly kernelHold: boolean;
  /** Every etcd member (servers and etcd-only nodes): the restore refuses while another one runs. */
  readonly etcdMembers: readonly Host[];
}

/**
 * The etcd restore tool on every etcd member (servers and etcd-only nodes), for the documented
 * restore, with the other members' addresses: the restore refuses while one of them still runs.
 */
export function restoreTool(a: NodeToolsArgs, t: Turn): void {
  const others = a.etcdMembers.filter((h) => h !== t.host).map((h) => h.privateIp);
  remoteCommand(
    `${t.host.name}-restore-tool`,
    {
      connection: a.connect(t.host),
      create: scriptCommand("etcd-restore", "install"),
      // The loader's script, then its settings (the script it installs, and the other members).
      stdin: pulumi
        .all(others)
        .apply((ips) =>
          scriptStdin("etcd-restore", encodeSettings({ SCRIPT: scriptText("etcd-restore"), MEMBERS: ips.join("\n") })),
        ),
      triggers: [t.host.machineId],
    },
    { parent: a.parent, dependsOn: [t.install] },
  );
}

/** On a server: the restore drill, and on kubeadm the program's snapshot tool on cron. */
export function etcdTools(a: NodeToolsArgs, t: Turn): void {
  const opts = { parent: a.parent, dependsOn: [t.install] };
  const on = { connection: a.connect(t.host), triggers: [t.host.machineId] };
  if (!a.etcdBackup) return;
  // kubeadm has no snapshot schedule of its own: the program's snapshot tool, on cron.
  if (a.distribution.etcdSnapshotsBy === "tool") {
    remoteCommand(
      `${t.host.name}-etcd-snapshots`,
      {
        ...on,
        create: scriptCommand("etcd-snapshot", "install"),
        // The bucket keys: stdin only, kept in a root-only file on the server.
        stdin: pulumi.secret(
          pulumi.output(a.etcdBackup).apply((b) => scriptStdin("etcd-snapshot", encodeSettings(snapshotToolSettings(b)))),
        ),
        // A secret stdin logs nothing (the policy pack's secrets-stay-secret).
        logging: "none",
      },
      opts,
    );
  }
  // With a bucket: what a rebuild needs besides a snapshot, encrypted to the operator's certificate.
  if (a.recoveryBundles) {
    const backup = pulumi.output(a.etcdBackup);
    remoteCommand(
      `${t.host.name}-recovery`,
      {
        ...on,
        create: scriptCommand("recovery", "install"),
        // The bucket keys: stdin only, kept in a root-only file on the server.
        stdin: pulumi.secret(backup.apply((b) => scriptStdin("recovery", encodeSettings(recoverySettings(a.distribution, b))))),
        // A secret stdin logs nothing (the policy pack's secrets-stay-secret).
        logging: "none",
      },
      opts,
    );
  }
  // The restore drill: the newest snapshot restored into a throwaway etcd, daily.
  remoteCommand(
    `${t.host.name}-etcd-drill`,
    {
      ...on,
      create: scriptCommand("etcd-drill", "install"),
      stdin: scriptStdin("etcd-drill", encodeSettings(drillSettings(a.distribution, t.host.arch))),
    },
    opts,
  );
}

/** The drill's settings: on k3s and RKE2 also the etcd release to fetch (pinned by sha256) and where their snapshots are. */
export function drillSettings(dist: Distribution, arch: string): Record<string, string> {
  const base = { SCRIPT: scriptText("etcd-drill"), SCHEDULE: ETCD_DRILL_SCHEDULE };
  if (dist.etcdSnapshotsBy === "tool") return base;
  if (arch !== "arm64" && arch !== "amd64") throw new Error(`no etcd release is pinned for ${arch}`);
  return {
    ...base,
    ETCD_URL: etcdTarballUrl(arch),
    ETCD_SHA256: ETCD_RELEASE.sha256[arch],
    ETCD_VERSION: ETCD_RELEASE.version,
    SNAPSHOT_DIR: dist.snapshotDir,
  };
}

/** The kernel held or released (after the install, which uses apt too): changing the setting re-runs only this. */
export function kernelHold(a: NodeToolsArgs, t: Turn): void {
  remoteCommand(
    `${t.host.name}-kernel`,
    {
      connection: a.connect(t.host),
      create: scriptCommand("kernel-hold", a.kernelHold ? "hold" : "release"),
      stdin: scriptStdin("kernel-hold"),
      triggers: [t.host.machineId],
    },
    { parent: a.parent, dependsOn: [t.install] },
  );
}

/** Labels and taints by kubectl on the first server: changing them re-runs only this command. */
export function labels(a: NodeToolsArgs, t: Turn): command.remote.Command {
  return remoteCommand(
    `${t.host.name}-labels`,
    {
      connection: a.onFirst,
      create: scriptCommand("label-node"),
      stdin: scriptStdin(
        "label-node",
        encodeSettings({
          KUBECTL: a.distribution.kubectl,
          NODE_NAME: t.host.name,
          LABELS: Object.entries(t.host.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join("\n"),
          TAINTS: t.host.taints.map(formatTaint).join("\n"),
        }),
      ),
      triggers: [t.host.machineId],
    },
    { parent: a.parent, dependsOn: [t.install] },
  );
}

/**
 * Leaving the stack, or a machine being replaced: the node is drained and deleted on the first
 * server (a server's etcd member first), then the distribution is removed from it. Their trigger
 * is the machine, so replacing an instance (delete before replace) replaces them first, which runs
 * their delete before the old instance goes and before the new one joins. Their connection and
 * scripts (the delete's loader and the script on its stdin) are never diffed: no change of key or
 * script can run a delete, and the delete always runs the script its loader was written for.
 */
export function retirement(a: NodeToolsArgs, t: Turn, removed: command.remote.Command): void {
  const dist = a.distribution;
  remoteCommand(
    `${t.host.name}-retire`,
    {
      connection: a.onFirst,
      create: "true",
      delete: pulumi
        .output(t.host.privateIp)
        .apply((ip) => scriptCommand("remove-node", t.host.name, ip, t.host.role, dist.name, ...dist.kubectl.split(" "))),
      // The delete's script: pulumi-command sends the stdin kept in the state to the delete too.
      stdin: scriptStdin("remove-node"),
      triggers: [t.host.machineId],
    },
    // Deleted before its replacement is created: a machine replaced at the same address (a
    // re-imaged host) would otherwise have its new node drained and deleted at the end of the update.
    { parent: a.parent, dependsOn: [removed], ignoreChanges: ["connection", "delete", "stdin"], deleteBeforeReplace: true },
  );
}

/**
 * The distribution, and what the bootstrap wrote, removed from the host when the node leaves the
 * stack (the machine stays). Registered before the install (which waits for it), so that after a
 * failed first install the token's config file is still removed on destroy.
 */
export function uninstall(
  a: Pick<NodeToolsArgs, "parent" | "distribution" | "connect">,
  host: Host,
  after: pulumi.Resource[],
): command.remote.Command {
  return remoteCommand(
    `${host.name}-uninstall`,
    {
      connection: a.connect(host),
      create: "true",
      delete: scriptCommand("uninstall", a.distribution.name),
      stdin: scriptStdin("uninstall"),
      triggers: [host.machineId],
    },
    // A replaced machine (an existing host re-imaged, or given another address or host key) is
    // uninstalled before the new install: created first, the old uninstall's delete would run at
    // the end of the update, on the same host, and wipe the node just installed.
    { parent: a.parent, dependsOn: after, ignoreChanges: ["connection", "delete", "stdin"], deleteBeforeReplace: true },
  );
}

/**
 * A kubeadm rebuild from the bucket: the old cluster's CAs and service-account key (restoreKubeadmPki)
 * on the first server before its install, so kubeadm init uses them instead of making new ones.
 */
export function restorePki(
  a: Pick<NodeToolsArgs, "parent" | "connect">,
  host: Host,
  pki: string,
  after: pulumi.Resource,
): command.remote.Command {
  return remoteCommand(
    `${host.name}-restore-pki`,
    {
      connection: a.connect(host),
      create: scriptCommand("recovery", "place-pki"),
      stdin: pulumi.secret(scriptStdin("recovery", encodeSettings({ PKI: pki }))),
      // The old cluster's CA keys on stdin: nothing logged.
      logging: "none",
      triggers: [host.machineId],
    },
    { parent: a.parent, dependsOn: [after] },
  );
}

/** Settings of etcd-snapshot.sh install: the tool itself, the schedule, and the bucket if any. */
function snapshotToolSettings(backup: EtcdBackup): Record<string, string> {
  return {
    SCRIPT: scriptText("etcd-snapshot"),
    SCHEDULE: backup.schedule,
    RETENTION: String(backup.retention),
    ...(backup.s3 ? s3Settings(backup.s3) : {}),
  };
}

/** The bucket as s3.sh reads it (its keys secret: settings travel on stdin only). */
function s3Settings(s3: NonNullable<EtcdBackup["s3"]>): Record<string, string> {
  return {
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_BUCKET: s3.bucket,
    S3_FOLDER: s3.folder,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
  };
}

/** Settings of recovery.sh install: the tool, what to collect on this distribution, the certificate and the bucket. */
export function recoverySettings(dist: Distribution, backup: EtcdBackup): Record<string, string> {
  if (!backup.s3) throw new Error("recovery bundles need the bucket");
  return {
    SCRIPT: scriptText("recovery"),
    DIST: dist.name,
    KUBECTL: dist.kubectl,
    SCHEDULE: backup.schedule,
    RETENTION: String(backup.retention),
    RECOVERY_CERTIFICATE: backup.s3.recoveryCertificate,
    ...s3Settings(backup.s3),
  };
}
