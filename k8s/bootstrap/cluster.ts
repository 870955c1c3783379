/**
 * The Cluster component: turns hosts into a Kubernetes cluster with remote commands over SSH.
 * It waits for each host, installs the first server, joins further servers one at a time and
 * agents in parallel (turns.ts), gives each node its tools, labels and taints (node-tools.ts),
 * reads the admin kubeconfig, and waits until every node is Ready.
 *
 * Every node's install sits between a drain and an uncordon (rollout.sh), so a new version or a
 * changed machine rolls through the cluster a node at a time: servers first, then agents, each
 * drained, changed, Ready and uncordoned before the next.
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterFacts, Distribution, EtcdBackup, Restored } from "./distributions";
import type { DrainGate } from "./drain-gate";
import type { ApiVip } from "./kube-vip";
import { adminKubeconfig } from "./kubeconfig";
import { etcdTools, kernelHold, labels, NodeToolsArgs, restorePki, restoreTool, retirement, uninstall } from "./node-tools";
import { remoteCommand } from "./remote";
import type { Artifacts } from "./artifacts";
import { encodeSettings, scriptCommand, scriptStdin } from "./scripts";
import { Connect, connector } from "./ssh";
import { Turns } from "./turns";
import { Host, SshAccess } from "./types";

export { adminKubeconfig } from "./kubeconfig";
export { ETCD_DRILL_SCHEDULE } from "./node-tools";

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
   * kubeadm: an address inside the network that balances the API over the servers, and what must
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
  /** etcdBackup has a bucket: each server uploads its recovery bundle beside the snapshots. */
  readonly recoveryBundles?: boolean;
  /** A rebuild from the bucket on a new stack: the old cluster's token, encryption key and kubeadm PKI (secret). */
  readonly restored?: Restored;
  /**
   * A new version or a changed machine is being rolled out: agents, too, take their turn one at a
   * time after the servers, instead of joining in parallel.
   */
  readonly rolling?: boolean;
  /**
   * A drain that does not finish, or storage not healthy again, lets the rollout go on (with a
   * warning) instead of stopping it with the node cordoned (rollout.sh).
   */
  readonly rolloutForce?: boolean;
  /** Seconds a rollout waits for a node's drain before it stops (or goes on, with rolloutForce); DRAIN_TIMEOUT_SECONDS when unset. */
  readonly rolloutDrainTimeout?: number;
  /** kubeadm: the hosts are system containers sharing one kernel and cgroup hierarchy (cgroupfs, a cgroup root per node). */
  readonly containerHosts?: boolean;
  /** Hold every node's kernel packages at the running kernel (false releases them). */
  readonly kernelHold?: boolean;
  /** Air-gapped installs: pinned release files from a mirror or pre-staged on the hosts (k3s, RKE2). */
  readonly artifacts?: Artifacts;
  /** Machines that wait for their node's drain: the cluster opens it with the drains it makes. */
  readonly drainGate?: DrainGate;
  /** A virtual IP for the API that kube-vip holds on the servers (machines with no load balancer). */
  readonly apiVip?: ApiVip;
  /** An existing load balancer in front of the servers (`apiAddress`): where nodes join (the VIP when there is one). */
  readonly registrationAddress?: string;
  /**
   * The networks (CIDRs) the nodes' private addresses are in, known from the stack's config (an
   * Oracle Cloud VCN): where the pod network leaves when the addresses themselves are not known
   * before the machines exist (RKE2 Canal's flannel interface).
   */
  readonly nodeNetworks?: readonly string[];
  /**
   * Remove the distribution from every host when the stack is destroyed, the first server
   * included: existing machines outlive the stack (cloud instances are deleted instead).
   */
  readonly uninstallFirstServer?: boolean;
}

export class Cluster extends pulumi.ComponentResource {
  /** Admin kubeconfig pointing at the API endpoint (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly apiUrl: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  /** Completes when every node is Ready (and uncordoned, and labelled). */
  public readonly allNodesReady: command.remote.Command;
  /**
   * Each node's drain, by node name, run on the first server before anything of the node changes,
   * so an instance about to be resized can wait for it. The first server is not in it: its drain
   * runs over its own SSH connection, which needs its instance.
   */
  public readonly drains: ReadonlyMap<string, command.remote.Command>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:k8s:Cluster", name, {}, opts);
    let turns: Turns;
    try {
      const connect = connector(args.ssh, args.hosts);
      const uninstalls = new Map<string, command.remote.Command>();
      turns = new Turns({
        parent: this,
        distribution: args.distribution,
        version: args.version,
        hosts: args.hosts,
        connect,
        readyMarker: args.readyMarker,
        cluster: this.facts(name, args),
        internalApiReady: args.internalApi?.ready,
        rolling: args.rolling ?? false,
        rolloutForce: args.rolloutForce ?? false,
        rolloutDrainTimeout: args.rolloutDrainTimeout,
        kubeVip: args.apiVip,
        beforeInstall: this.beforeInstall(args, connect, uninstalls),
        artifacts: args.artifacts,
        waitsForDrain: (node) => args.drainGate?.drainOf(node) !== undefined,
      });
      const tools: NodeToolsArgs = {
        parent: this,
        distribution: args.distribution,
        connect,
        onFirst: turns.onFirst,
        etcdBackup: args.etcdBackup,
        recoveryBundles: args.recoveryBundles,
        kernelHold: args.kernelHold ?? false,
        etcdMembers: args.hosts.filter((h) => h.role !== "agent"),
      };
      for (const t of turns.all.filter((x) => x.host.role !== "agent")) restoreTool(tools, t);
      for (const t of turns.all.filter((x) => x.host.role === "server")) etcdTools(tools, t);
      for (const t of turns.all) kernelHold(tools, t);
      const labelled = turns.all.map((t) => labels(tools, t));
      for (const t of turns.all.filter((x) => x.host !== turns.first)) retirement(tools, t, uninstalls.get(t.host.name)!);
      this.allNodesReady = remoteCommand(
        `${name}-ready`,
        {
          connection: turns.onFirst,
          create: scriptCommand("wait-ready"),
          stdin: scriptStdin(
            "wait-ready",
            encodeSettings({ KUBECTL: args.distribution.kubectl, NODES: args.hosts.map((h) => h.name).join("\n") }),
          ),
          triggers: args.hosts.map((h) => h.machineId),
        },
        { parent: this, dependsOn: [...labelled, ...turns.all.map((t) => t.uncordon)] },
      );
    } catch (error) {
      args.drainGate?.open(undefined);
      throw error;
    }
    this.drains = turns.drains;
    args.drainGate?.open(this.drains);

    this.apiUrl = pulumi.interpolate`https://${args.apiEndpoint}:${args.distribution.apiPort}`;
    this.kubeconfig = this.readKubeconfig(name, args, turns);
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
      { parent: this, dependsOn: [this.allNodesReady] },
    );
    this.registerOutputs({ kubeconfig: this.kubeconfig, apiUrl: this.apiUrl });
  }

  /**
   * What a host's install waits for: every host but a cloud first server (its instance goes
   * instead) is uninstalled on destroy; on a kubeadm rebuild the first server gets the old CAs
   * first, which kubeadm init then uses.
   */
  private beforeInstall(args: ClusterArgs, connect: Connect, uninstalls: Map<string, command.remote.Command>) {
    const firstServer = args.hosts.find((h) => h.role === "server");
    return (h: Host, hostUp: pulumi.Resource): pulumi.Resource | undefined => {
      const u =
        h === firstServer && !args.uninstallFirstServer
          ? undefined
          : uninstall({ parent: this, distribution: args.distribution, connect }, h, [hostUp]);
      if (u) uninstalls.set(h.name, u);
      const pki = h === firstServer ? args.restored?.kubeadmPki : undefined;
      return pki ? restorePki({ parent: this, connect }, h, pki, u ?? hostUp) : u;
    };
  }

  /**
   * What every node's install knows of the cluster. The API certificate is valid for the shared
   * endpoints (the load balancer, extra names) and, on each server, for that server's own
   * addresses (its facts). Never for another server's: a server's install must not wait for a
   * later server's instance, which may itself wait for its drain (a resize), and that drain waits
   * for this install: a cycle that never settles.
   */
  private facts(name: string, args: ClusterArgs): pulumi.Output<ClusterFacts> {
    const first = args.hosts.find((h) => h.role === "server");
    if (!first) throw new Error("a cluster needs at least one server");
    // A rebuild on a new stack takes the old cluster's token and key (the snapshot needs them).
    const { clusterToken, encryptionKey: oldKey } = args.restored ?? {};
    const token =
      args.distribution.joinsWith === "token"
        ? pulumi.secret(
            clusterToken ?? new random.RandomPassword(`${name}-token`, { length: 48, special: false }, { parent: this }).result,
          )
        : undefined;
    const encryptionKey = args.distribution.encryptsWithOwnKey
      ? pulumi.secret(oldKey ?? new random.RandomBytes(`${name}-encryption-key`, { length: 32 }, { parent: this }).base64)
      : undefined;
    const internalApi = args.internalApi
      ? { name: `kube-api.${args.clusterName}.internal`, address: args.internalApi.address }
      : undefined;
    const registration = args.apiVip?.address ?? args.registrationAddress;
    const otherServers = args.hosts.filter((h) => h.role !== "agent" && h !== first).map((h) => h.privateIp);
    const plainIps = args.hosts.map((h) => h.privateIp).filter((ip): ip is string => typeof ip === "string");
    return pulumi
      .all([
        args.apiEndpoint,
        first.privateIp,
        token ?? pulumi.output(undefined),
        args.etcdBackup ?? pulumi.output(undefined),
        encryptionKey ?? pulumi.output(undefined),
      ])
      .apply(([endpoint, firstIp, secret, etcdBackup, key]) => ({
        clusterName: args.clusterName,
        version: args.version,
        firstServerIp: firstIp,
        tlsSans: [
          ...new Set([endpoint, ...(args.extraSans ?? []), ...(internalApi ? [internalApi.name, internalApi.address] : [])]),
        ],
        internalApi,
        ...(args.containerHosts ? { containerHosts: true } : {}),
        ...(plainIps.length === args.hosts.length ? { nodeIps: plainIps } : {}),
        ...(registration ? { registrationAddress: registration } : {}),
        ...(args.nodeNetworks?.length ? { nodeNetworks: args.nodeNetworks } : {}),
        ...(otherServers.length > 0 && otherServers.every((ip) => typeof ip === "string")
          ? { otherServerIps: otherServers as string[] }
          : {}),
        token: secret,
        ...(key ? { encryptionKey: key } : {}),
        etcdBackup: etcdBackup as EtcdBackup | undefined,
      }));
  }

  /** The admin kubeconfig, read on the first server after its install (secret). */
  private readKubeconfig(name: string, args: ClusterArgs, turns: Turns): pulumi.Output<string> {
    const read = remoteCommand(
      `${name}-kubeconfig`,
      {
        connection: turns.onFirst,
        create: scriptCommand("kubeconfig", args.distribution.kubeconfigPath),
        stdin: scriptStdin("kubeconfig"),
        logging: "none",
        triggers: [turns.first.machineId],
      },
      { parent: this, dependsOn: [turns.firstInstall], additionalSecretOutputs: ["stdout"] },
    );
    return pulumi.secret(
      pulumi.all([read.stdout, this.apiUrl]).apply(([text, url]) => adminKubeconfig(text, url, args.clusterName)),
    );
  }
}
