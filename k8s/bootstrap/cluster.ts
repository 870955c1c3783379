import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { parse, stringify } from "yaml";
import { formatTaint } from "../labels";
import { ClusterFacts, Distribution, EtcdBackup, JoinMaterial, NodeFacts } from "./distributions";
import { decodeSettings, encodeSettings, scriptCommand, scriptText } from "./scripts";
import { remoteCommand } from "./remote";
import { Host, SshAccess } from "./types";

/** SSH dial attempts while a node is still booting: 60 tries of up to 15 s each. */
const DIAL = { dialErrorLimit: 60, perDialTimeout: 15 } as const;

export interface ClusterArgs {
  /** Cluster name: kubeconfig names and the provider's identity. */
  readonly clusterName: string;
  /** The distribution that installs the nodes. */
  readonly distribution: Distribution;
  /** Its exact release. */
  readonly version: string;
  /** Public address of the API (the load balancer): the kubeconfig's server and a certificate SAN. */
  readonly apiEndpoint: pulumi.Input<string>;
  /** Further names the API certificate must cover (a DNS name for the API, say). */
  readonly extraSans?: readonly string[];
  /**
   * kubeadm: an address inside the network that balances 6443 over the servers, and what must
   * exist before it answers. Agents reach the control plane there, not through the first server.
   */
  readonly internalApi?: { readonly address: string; readonly ready?: pulumi.Input<pulumi.Resource> };
  /** The machines, first server first. */
  readonly hosts: readonly Host[];
  readonly ssh: SshAccess;
  /** File each host's preparation writes when it is done; the bootstrap waits for it. */
  readonly readyMarker: string;
  /** Scheduled etcd snapshots (every distribution); its S3 keys are secret. */
  readonly etcdBackup?: pulumi.Input<EtcdBackup>;
  /**
   * A new version or a changed machine is being rolled out: agents, too, take their turn one at a
   * time after the servers, instead of joining in parallel.
   */
  readonly rolling?: boolean;
  /** Hold every node's kernel packages at the running kernel (false releases them). */
  readonly kernelHold?: boolean;
}

interface Step {
  readonly host: Host;
  readonly install: command.remote.Command;
  /** Done when the node is Ready on the version (and uncordoned after a drain). */
  readonly uncordon: command.remote.Command;
}

/**
 * Turns hosts into a Kubernetes cluster with remote commands over SSH: waits for each host,
 * installs the first server, joins further servers one at a time and agents in parallel, applies
 * labels and taints, reads the admin kubeconfig, and waits until every node is Ready.
 *
 * Every node's install sits between a drain and an uncordon (rollout.sh), so a new version or a
 * changed machine rolls through the cluster a node at a time: servers first, then agents, each
 * drained, changed, Ready and uncordoned before the next.
 */
export class Cluster extends pulumi.ComponentResource {
  /** Admin kubeconfig pointing at the API endpoint (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly apiUrl: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  /** Completes when every node is Ready. */
  public readonly ready: command.remote.Command;
  /**
   * Each node's drain, by node name, run on the first server before anything of the node changes,
   * so an instance about to be resized can wait for it. The first server is not in it: its drain
   * runs over its own SSH connection, which needs its instance.
   */
  public readonly drains: ReadonlyMap<string, command.remote.Command>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:k8s:Cluster", name, {}, opts);
    const dist = args.distribution;
    const servers = args.hosts.filter((h) => h.role === "server");
    if (servers.length === 0) throw new Error("a cluster needs at least one server");
    const first = servers[0];
    // etcd members after the first: the other servers and etcd-only nodes, in the hosts' order.
    const members = args.hosts.filter((h) => h.role !== "agent" && h !== first);
    const parent = { parent: this };

    if (args.hosts.some((h) => h.viaBastion) && !args.ssh.bastion) throw new Error("hosts behind a bastion need ssh.bastion");
    const key = args.ssh.privateKey ? { privateKey: pulumi.secret(args.ssh.privateKey) } : {};
    // Host keys are pinned when known: pulumi-command otherwise accepts any key the host offers.
    const pinned = (hostKey?: pulumi.Input<string>) => (hostKey ? { hostKey } : {});
    const connection = (h: Host): command.types.input.remote.ConnectionArgs => ({
      host: h.address,
      user: args.ssh.user,
      ...key,
      ...DIAL,
      ...pinned(h.hostKey),
      ...(h.viaBastion
        ? { proxy: { host: args.ssh.bastion!, user: args.ssh.user, ...key, ...DIAL, ...pinned(args.ssh.bastionHostKey) } }
        : {}),
    });
    const onFirst = connection(first);

    const token =
      dist.joinsWith === "token"
        ? pulumi.secret(new random.RandomPassword(`${name}-token`, { length: 48, special: false }, parent).result)
        : undefined;

    // The API certificate is valid for the shared endpoints (the load balancer, extra names) and,
    // on each server, for that server's own addresses (its facts). Never for another server's: a
    // server's install must not wait for a later server's instance, which may itself wait for its
    // drain (a resize), and that drain waits for this install: a cycle that never settles.
    const internalApi = args.internalApi
      ? { name: `kube-api.${args.clusterName}.internal`, address: args.internalApi.address }
      : undefined;
    const clusterFacts: pulumi.Output<ClusterFacts> = pulumi
      .all([args.apiEndpoint, first.privateIp, token ?? pulumi.output(undefined), args.etcdBackup ?? pulumi.output(undefined)])
      .apply(([endpoint, firstIp, secret, etcdBackup]) => ({
        clusterName: args.clusterName,
        version: args.version,
        firstServerIp: firstIp,
        tlsSans: [
          ...new Set([endpoint, ...(args.extraSans ?? []), ...(internalApi ? [internalApi.name, internalApi.address] : [])]),
        ],
        internalApi,
        token: secret,
        etcdBackup: etcdBackup as EtcdBackup | undefined,
      }));

    const facts = (h: Host): pulumi.Output<NodeFacts> =>
      pulumi.all([h.privateIp, h.address]).apply(([ip, address]) => ({
        name: h.name,
        role: h.role,
        first: h === first,
        privateIp: ip,
        addresses: [...new Set([ip, address])],
        memoryGb: h.memoryGb,
        taints: h.taints,
      }));

    const waits = new Map(
      args.hosts.map((h) => [
        h,
        remoteCommand(
          `${h.name}-wait`,
          {
            connection: connection(h),
            create: scriptCommand("wait-host", args.readyMarker),
            triggers: [h.machineId],
          },
          { parent: this, dependsOn: h.dependsOn },
        ),
      ]),
    );

    /** kubeadm: once the node has joined, its token and the uploaded certificates are deleted. */
    const revoke = (h: Host, joined: pulumi.Resource, material?: pulumi.Output<JoinMaterial>) => {
      if (!material || !dist.revokeJoinMaterialCommand) return;
      remoteCommand(
        `${h.name}-revoke-join`,
        {
          connection: onFirst,
          create: dist.revokeJoinMaterialCommand,
          stdin: pulumi.secret(material.apply((m) => encodeSettings({ KUBECTL: dist.kubectl, JOIN_TOKEN: m.JOIN_TOKEN }))),
          triggers: [h.machineId],
        },
        { parent: this, dependsOn: [joined] },
      );
    };

    /** Settings of the node's turn in a rollout (rollout.sh), run on the first server. */
    const rolloutSettings = (h: Host) =>
      encodeSettings({
        KUBECTL: dist.kubectl,
        KUBECONFIG_PATH: dist.kubeconfigPath,
        NODE_NAME: h.name,
        VERSION: args.version,
        MACHINE: h.machine,
      });
    const drains = new Map<string, command.remote.Command>();

    /**
     * One node's turn: drained if its version or machine is about to change, installed (or joined,
     * or upgraded), then uncordoned once Ready on the version. `after` is the turn it waits for.
     */
    const turn = (
      h: Host,
      after: pulumi.Resource[],
      joins: (drained: pulumi.Resource[]) => pulumi.Output<JoinMaterial> | undefined,
    ): Step => {
      const drain = remoteCommand(
        `${h.name}-drain`,
        // Nothing of the node's own machine: a resized instance waits for this drain.
        { connection: onFirst, create: scriptCommand("rollout", "drain"), stdin: rolloutSettings(h) },
        { parent: this, dependsOn: [waits.get(first)!, ...after] },
      );
      if (h !== first) drains.set(h.name, drain);
      const material = joins([drain]);
      const nodeFacts = facts(h);
      const settings = pulumi
        .all([nodeFacts, clusterFacts, material ?? pulumi.output(undefined)])
        .apply(([n, c, m]) => encodeSettings(dist.installSettings(n, c, m)));
      const installCommand = remoteCommand(
        `${h.name}-install`,
        {
          connection: connection(h),
          create: nodeFacts.apply((n) => dist.installCommand(n)),
          // The cluster token or join material: stdin only, never a command line or a log.
          stdin: pulumi.secret(settings),
          triggers: [h.machineId],
        },
        {
          parent: this,
          // An agent of a cluster with an internal API reaches the control plane through it.
          dependsOn: [waits.get(h)!, drain, ...(h.role === "agent" && args.internalApi?.ready ? [args.internalApi.ready] : [])],
        },
      );
      revoke(h, installCommand, material);
      const uncordon = remoteCommand(
        `${h.name}-uncordon`,
        { connection: onFirst, create: scriptCommand("rollout", "uncordon"), stdin: rolloutSettings(h), triggers: [h.machineId] },
        { parent: this, dependsOn: [installCommand] },
      );
      return { host: h, install: installCommand, uncordon };
    };

    /** kubeadm: a fresh token (15 minutes) and certificate key, made on the first server just before the join. */
    const joinMaterial = (h: Host, after: pulumi.Resource[]): pulumi.Output<JoinMaterial> | undefined => {
      if (dist.joinsWith !== "material") return undefined;
      const made = remoteCommand(
        `${h.name}-join-material`,
        {
          connection: onFirst,
          create: facts(h).apply((n) => dist.joinMaterialCommand!(n)),
          logging: "none",
          triggers: [h.machineId],
        },
        { parent: this, dependsOn: after, additionalSecretOutputs: ["stdout"] },
      );
      return made.stdout.apply((out) => decodeSettings(out) as unknown as JoinMaterial);
    };

    // The first server, then the other servers one at a time (one etcd member joins or is upgraded
    // at a time), then the agents: all at once when they join, one at a time in a rollout.
    const firstStep = turn(first, [], () => undefined);
    const steps: Step[] = [firstStep];
    for (const member of members) {
      steps.push(turn(member, [steps[steps.length - 1].uncordon], (drained) => joinMaterial(member, drained)));
    }
    for (const agent of args.hosts.filter((h) => h.role === "agent")) {
      const after = args.rolling ? steps[steps.length - 1].uncordon : firstStep.uncordon;
      steps.push(turn(agent, [after], (drained) => joinMaterial(agent, drained)));
    }
    this.drains = drains;

    for (const s of steps.filter((x) => x.host.role === "server")) {
      // The etcd restore tool on every server, for the documented restore.
      remoteCommand(
        `${s.host.name}-restore-tool`,
        {
          connection: connection(s.host),
          create: "sudo install -m 0755 /dev/stdin /usr/local/sbin/oci-k8s-etcd-restore",
          stdin: scriptText("etcd-restore"),
          triggers: [s.host.machineId],
        },
        { parent: this, dependsOn: [s.install] },
      );
      // kubeadm has no snapshot schedule of its own: the program's snapshot tool, on cron.
      if (dist.etcdSnapshotsBy === "tool" && args.etcdBackup) {
        remoteCommand(
          `${s.host.name}-etcd-snapshots`,
          {
            connection: connection(s.host),
            create: scriptCommand("etcd-snapshot", "install"),
            // The bucket keys: stdin only, kept in a root-only file on the server.
            stdin: pulumi.secret(pulumi.output(args.etcdBackup).apply((b) => encodeSettings(snapshotToolSettings(b)))),
            triggers: [s.host.machineId],
          },
          { parent: this, dependsOn: [s.install] },
        );
        // The restore drill: the newest snapshot restored into a throwaway etcd, daily.
        remoteCommand(
          `${s.host.name}-etcd-drill`,
          {
            connection: connection(s.host),
            create: scriptCommand("etcd-drill", "install"),
            stdin: encodeSettings({ SCRIPT: scriptText("etcd-drill"), SCHEDULE: ETCD_DRILL_SCHEDULE }),
            triggers: [s.host.machineId],
          },
          { parent: this, dependsOn: [s.install] },
        );
      }
    }

    // The kernel held or released on every node (after its install, which uses apt too):
    // changing the setting re-runs only these.
    for (const s of steps) {
      remoteCommand(
        `${s.host.name}-kernel`,
        {
          connection: connection(s.host),
          create: scriptCommand("kernel-hold", args.kernelHold ? "hold" : "release"),
          triggers: [s.host.machineId],
        },
        { parent: this, dependsOn: [s.install] },
      );
    }

    // Labels and taints by kubectl on the first server: changing them re-runs only this command.
    const labelled = steps.map((s) =>
      remoteCommand(
        `${s.host.name}-labels`,
        {
          connection: onFirst,
          create: scriptCommand("label-node"),
          stdin: encodeSettings({
            KUBECTL: dist.kubectl,
            NODE_NAME: s.host.name,
            LABELS: Object.entries(s.host.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join("\n"),
            TAINTS: s.host.taints.map(formatTaint).join("\n"),
          }),
          triggers: [s.host.machineId],
        },
        { parent: this, dependsOn: [s.install] },
      ),
    );

    // Leaving the stack, or a machine being replaced: the node is drained and deleted on the first
    // server (a server's etcd member first), then the distribution is removed from it. Their
    // trigger is the machine, so replacing an instance (delete before replace) replaces them
    // first, which runs their delete before the old instance goes and before the new one joins.
    // Their connection and scripts are never diffed: no change of key or script can run a delete.
    for (const s of steps.filter((x) => x.host !== first)) {
      const uninstall = remoteCommand(
        `${s.host.name}-uninstall`,
        {
          connection: connection(s.host),
          create: "true",
          delete: scriptCommand("uninstall", dist.name),
          triggers: [s.host.machineId],
        },
        { parent: this, dependsOn: [s.install], ignoreChanges: ["connection", "delete"] },
      );
      remoteCommand(
        `${s.host.name}-retire`,
        {
          connection: onFirst,
          create: "true",
          delete: pulumi
            .output(s.host.privateIp)
            .apply((ip) => scriptCommand("remove-node", s.host.name, ip, s.host.role, dist.name, ...dist.kubectl.split(" "))),
          triggers: [s.host.machineId],
        },
        { parent: this, dependsOn: [uninstall], ignoreChanges: ["connection", "delete"] },
      );
    }

    const kubeconfigCommand = remoteCommand(
      `${name}-kubeconfig`,
      {
        connection: onFirst,
        create: scriptCommand("kubeconfig", dist.kubeconfigPath),
        logging: "none",
        triggers: [first.machineId],
      },
      { parent: this, dependsOn: [firstStep.install], additionalSecretOutputs: ["stdout"] },
    );

    this.ready = remoteCommand(
      `${name}-ready`,
      {
        connection: onFirst,
        create: scriptCommand("wait-ready"),
        stdin: encodeSettings({ KUBECTL: dist.kubectl, NODES: args.hosts.map((h) => h.name).join("\n") }),
        triggers: args.hosts.map((h) => h.machineId),
      },
      { parent: this, dependsOn: [...labelled, ...steps.map((s) => s.uncordon)] },
    );

    this.apiUrl = pulumi.interpolate`https://${args.apiEndpoint}:6443`;
    this.kubeconfig = pulumi.secret(
      pulumi.all([kubeconfigCommand.stdout, this.apiUrl]).apply(([text, url]) => adminKubeconfig(text, url, args.clusterName)),
    );
    this.provider = new k8s.Provider(
      `${name}-provider`,
      {
        kubeconfig: this.kubeconfig,
        // A new kubeconfig (a rotated certificate) updates the provider instead of replacing it,
        // which would replace every Kubernetes resource of the stack.
        clusterIdentifier: args.clusterName,
        // An unreachable cluster (being destroyed) must not block removing its resources from the stack.
        deleteUnreachable: true,
      },
      { parent: this, dependsOn: [this.ready] },
    );

    this.registerOutputs({ kubeconfig: this.kubeconfig, apiUrl: this.apiUrl });
  }
}

/** When the etcd restore drill runs on kubeadm servers (after the 00:00 snapshot of the default schedules). */
export const ETCD_DRILL_SCHEDULE = "30 4 * * *";

/** Settings of etcd-snapshot.sh install: the tool itself, the schedule, and the bucket if any. */
function snapshotToolSettings(backup: EtcdBackup): Record<string, string> {
  return {
    SCRIPT: scriptText("etcd-snapshot"),
    SCHEDULE: backup.schedule,
    RETENTION: String(backup.retention),
    ...(backup.s3
      ? {
          S3_ENDPOINT: backup.s3.endpoint,
          S3_REGION: backup.s3.region,
          S3_BUCKET: backup.s3.bucket,
          S3_FOLDER: backup.s3.folder,
          S3_ACCESS_KEY: backup.s3.accessKey,
          S3_SECRET_KEY: backup.s3.secretKey,
        }
      : {}),
  };
}

/** The distribution's admin kubeconfig, renamed after the cluster and pointed at the API endpoint. */
export function adminKubeconfig(text: string, apiUrl: string, clusterName: string): string {
  const doc = parse(text) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
    users: { name: string; user: Record<string, unknown> }[];
    contexts: { name: string; context: Record<string, unknown> }[];
  };
  if (!doc?.clusters?.[0] || !doc.users?.[0]) throw new Error("the first server returned no kubeconfig; run pulumi up again");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { ...doc.clusters[0].cluster, server: apiUrl } }],
    users: [{ name: `${clusterName}-admin`, user: doc.users[0].user }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: `${clusterName}-admin` } }],
    "current-context": clusterName,
  });
}
