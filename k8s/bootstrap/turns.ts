/**
 * Each node's turn in the bootstrap: drained if its version or machine is about to change,
 * installed (or joined, or upgraded), then uncordoned once Ready on the version. The first server
 * goes first, then the other etcd members one at a time, then the agents: all at once when they
 * join, one at a time in a rollout.
 */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterFacts, Distribution, JoinMaterial, NodeFacts } from "./distributions";
import { ApiVip, kubeVipCommand, kubeVipManifest, kubeVipStdin } from "./kube-vip";
import { remoteCommand } from "./remote";
import { UPSTREAM_RESOLV_CONF } from "./reserved";
import { artifactSettings, Artifacts } from "./artifacts";
import { DRAIN_TIMEOUT_SECONDS } from "./rollout";
import { decodeSettings, encodeSettings, scriptCommand, scriptStdin } from "./scripts";
import type { Connect } from "./ssh";
import type { Host } from "./types";

/** One node's commands: its install, and the uncordon that ends its turn (the node Ready on the version). */
export interface Turn {
  readonly host: Host;
  readonly install: command.remote.Command;
  readonly uncordon: command.remote.Command;
}

export interface TurnsArgs {
  readonly parent: pulumi.Resource;
  readonly distribution: Distribution;
  readonly version: string;
  readonly hosts: readonly Host[];
  readonly connect: Connect;
  /** File each host's preparation writes when it is done. */
  readonly readyMarker: string;
  readonly cluster: pulumi.Output<ClusterFacts>;
  /** What an agent's install waits for when agents reach the API through an internal load balancer. */
  readonly internalApiReady?: pulumi.Input<pulumi.Resource>;
  /** Agents, too, take their turns one at a time (a rollout). */
  readonly rolling: boolean;
  /** A drain that times out, or storage not healthy, does not stop the rollout (rollout.sh FORCE). */
  readonly rolloutForce?: boolean;
  /** Seconds rollout.sh's drain waits (kubectl drain --timeout); DRAIN_TIMEOUT_SECONDS when unset. */
  readonly rolloutDrainTimeout?: number;
  /** A virtual IP for the API, held by kube-vip on the servers (machines with no load balancer). */
  readonly kubeVip?: ApiVip;
  /**
   * What a host's install waits for once the host is up: its uninstall, registered before the
   * install so that a failed first install still has it in the state, and destroy runs it.
   */
  readonly beforeInstall?: (h: Host, hostUp: pulumi.Resource) => pulumi.Resource | undefined;
  /**
   * Whether a node's machine waits for its drain in this update (a resize in place): such a
   * machine waits for the first server's turn, so the first server's install must not wait for it.
   */
  readonly waitsForDrain?: (node: string) => boolean;
  /** Air-gapped: the pinned release files the installs take instead of downloading (k3s, RKE2). */
  readonly artifacts?: Artifacts;
}

export class Turns {
  readonly first: Host;
  /** Every node's turn, in order. */
  readonly all: readonly Turn[];
  /** Each node's drain but the first server's (its drain runs over its own connection). */
  readonly drains = new Map<string, command.remote.Command>();
  private readonly waits: ReadonlyMap<Host, command.remote.Command>;
  /** The first server's kube-vip: once it holds the VIP, agents can reach the API there. */
  private vipUp?: command.remote.Command;

  constructor(private readonly a: TurnsArgs) {
    const servers = a.hosts.filter((h) => h.role === "server");
    if (servers.length === 0) throw new Error("a cluster needs at least one server");
    this.first = servers[0];
    this.waits = new Map(a.hosts.map((h) => [h, this.waitFor(h)]));
    const firstTurn = this.turn(this.first, []);
    const turns: Turn[] = [firstTurn];
    // etcd members after the first: the other servers and etcd-only nodes, in the hosts' order.
    for (const member of a.hosts.filter((h) => h.role !== "agent" && h !== this.first)) {
      turns.push(this.turn(member, [turns[turns.length - 1].uncordon]));
    }
    for (const agent of a.hosts.filter((h) => h.role === "agent")) {
      turns.push(this.turn(agent, [a.rolling ? turns[turns.length - 1].uncordon : firstTurn.uncordon]));
    }
    this.all = turns;
  }

  /** The connection to the first server, where every kubectl of the bootstrap runs. */
  get onFirst() {
    return this.a.connect(this.first);
  }

  /** The first server's install: what the kubeconfig is read after. */
  get firstInstall(): command.remote.Command {
    return this.all[0].install;
  }

  /** What a distribution needs to know of one node. */
  facts(h: Host): pulumi.Output<NodeFacts> {
    return pulumi.all([h.privateIp, h.address]).apply(([ip, address]) => ({
      name: h.name,
      role: h.role,
      first: h === this.first,
      privateIp: ip,
      addresses: [...new Set([ip, address])],
      memoryGb: h.memoryGb,
      taints: h.taints,
      resolvConf: h.resolvConf ?? UPSTREAM_RESOLV_CONF,
    }));
  }

  private waitFor(h: Host): command.remote.Command {
    return remoteCommand(
      `${h.name}-wait`,
      {
        connection: this.a.connect(h),
        create: scriptCommand("wait-host", this.a.readyMarker, ...(h.cloudInit === false ? ["marker-only"] : [])),
        stdin: scriptStdin("wait-host"),
        triggers: [h.machineId],
      },
      { parent: this.a.parent, dependsOn: h.dependsOn },
    );
  }

  /** The stdin of the node's turn in a rollout (rollout.sh and its settings), run on the first server. */
  private rolloutSettings(h: Host): string {
    return scriptStdin(
      "rollout",
      encodeSettings({
        KUBECTL: this.a.distribution.kubectl,
        KUBECONFIG_PATH: this.a.distribution.kubeconfigPath,
        NODE_NAME: h.name,
        VERSION: this.a.version,
        MACHINE: h.machine,
        FORCE: this.a.rolloutForce ? "true" : "false",
        DRAIN_TIMEOUT: `${this.a.rolloutDrainTimeout ?? DRAIN_TIMEOUT_SECONDS}s`,
      }),
    );
  }

  /** One node's turn, after `previous` (the turn it waits for). */
  private turn(h: Host, previous: pulumi.Resource[]): Turn {
    const { parent, distribution: dist } = this.a;
    const drain = remoteCommand(
      `${h.name}-drain`,
      // Nothing of the node's own machine: a resized instance waits for this drain.
      { connection: this.onFirst, create: scriptCommand("rollout", "drain"), stdin: this.rolloutSettings(h) },
      { parent, dependsOn: [this.waits.get(this.first)!, ...previous] },
    );
    if (h !== this.first) this.drains.set(h.name, drain);
    const material = h === this.first ? this.rejoinMaterial() : this.joinMaterial(h, [drain]);
    const nodeFacts = this.facts(h);
    const guard = this.a.beforeInstall?.(h, this.waits.get(h)!);
    const settings = pulumi.all([nodeFacts, this.a.cluster, material ?? pulumi.output(undefined)]).apply(([n, c, m]) =>
      scriptStdin(
        dist.script,
        encodeSettings({
          ...dist.installSettings(n, c, m),
          // A named apiVipInterface must exist on every server before its install.
          ...(this.a.kubeVip?.interface && h.role === "server" ? { VIP_INTERFACE: this.a.kubeVip.interface } : {}),
          ...artifactSettings(this.a.artifacts),
        }),
      ),
    );
    const install = remoteCommand(
      `${h.name}-install`,
      {
        connection: this.a.connect(h),
        create: nodeFacts.apply((n) => dist.installCommand(n)),
        // The script, then the cluster token or join material: stdin only, never a command line or a log.
        stdin: pulumi.secret(settings),
        // A secret stdin logs nothing (the policy pack's secrets-stay-secret): a script that ever
        // echoed a setting would put the token in the deploy log. A failure still quotes the
        // output in pulumi-command's error (commandOutputs.go, v1.2.1), so it stays readable.
        logging: "none",
        triggers: [h.machineId],
      },
      {
        parent,
        // An agent of a cluster with an internal API reaches the control plane through it.
        dependsOn: [this.waits.get(h)!, drain, ...(guard ? [guard] : []), ...(h.role === "agent" ? this.apiReady() : [])],
      },
    );
    if (h === this.first) this.revokeRejoin(install, material);
    else this.revoke(h, install, material);
    const vip = h.role === "server" ? this.kubeVip(h, install) : undefined;
    const uncordon = remoteCommand(
      `${h.name}-uncordon`,
      {
        connection: this.onFirst,
        create: scriptCommand("rollout", "uncordon"),
        stdin: this.rolloutSettings(h),
        triggers: [h.machineId],
      },
      { parent, dependsOn: [install, ...(vip ? [vip] : [])] },
    );
    return { host: h, install, uncordon };
  }

  /** What an agent's install waits for: the internal API answering (a load balancer, or the VIP held). */
  private apiReady(): pulumi.Input<pulumi.Resource>[] {
    if (this.a.internalApiReady) return [this.a.internalApiReady];
    return this.a.kubeVip && this.vipUp ? [this.vipUp] : [];
  }

  /** kube-vip's static pod on a server, once its API (and the kubeconfig kube-vip elects with) is up. */
  private kubeVip(h: Host, install: pulumi.Resource): command.remote.Command | undefined {
    const { kubeVip, distribution: dist } = this.a;
    if (!kubeVip) return undefined;
    const placed = remoteCommand(
      `${h.name}-kube-vip`,
      {
        connection: this.a.connect(h),
        create: pulumi.output(h.privateIp).apply((ip) => kubeVipCommand(kubeVip, `${dist.staticPodDir}/kube-vip.yaml`, ip)),
        delete: `sudo rm -f ${dist.staticPodDir}/kube-vip.yaml`,
        stdin: kubeVipStdin(kubeVipManifest(kubeVip, dist.kubeconfigPath, dist.apiPort, h.name)),
        triggers: [h.machineId],
      },
      { parent: this.a.parent, dependsOn: [install] },
    );
    this.vipUp ??= placed;
    return placed;
  }

  /** kubeadm: a fresh token (15 minutes) and certificate key, made on the first server just before the join. */
  private joinMaterial(h: Host, after: pulumi.Resource[]): pulumi.Output<JoinMaterial> | undefined {
    const dist = this.a.distribution;
    if (dist.joinsWith !== "material") return undefined;
    const made = remoteCommand(
      `${h.name}-join-material`,
      {
        connection: this.onFirst,
        create: this.facts(h).apply((n) => dist.joinMaterialCommand!(n)),
        stdin: scriptStdin(dist.script),
        logging: "none",
        triggers: [h.machineId],
      },
      { parent: this.a.parent, dependsOn: after, additionalSecretOutputs: ["stdout"] },
    );
    return made.stdout.apply((out) => decodeSettings(out) as unknown as JoinMaterial);
  }

  /**
   * The server a replaced first server rejoins through (kubeadm): the next server in the hosts'
   * order whose machine does not wait for its drain (that drain waits for the first server's turn).
   */
  private get rejoinServer(): Host | undefined {
    if (!this.a.distribution.rejoinMaterialCommand) return undefined;
    return this.a.hosts.find((h) => h.role === "server" && h !== this.first && !this.a.waitsForDrain?.(h.name));
  }

  /**
   * kubeadm: join material for the first server from another server, made only when the first
   * server's machine was replaced and the cluster lives on there (kubeadm.sh rejoin-material);
   * empty otherwise, and the first server inits. Runs when the first server's machine changes.
   */
  private rejoinMaterial(): pulumi.Output<JoinMaterial> | undefined {
    const other = this.rejoinServer;
    if (!other) return undefined;
    const dist = this.a.distribution;
    const made = remoteCommand(
      `${this.first.name}-rejoin-material`,
      {
        connection: this.a.connect(other),
        create: dist.rejoinMaterialCommand!,
        stdin: scriptStdin(dist.script, encodeSettings({ FIRST_NAME: this.first.name })),
        logging: "none",
        triggers: [this.first.machineId],
      },
      { parent: this.a.parent, dependsOn: [this.waits.get(other)!], additionalSecretOutputs: ["stdout"] },
    );
    return pulumi.all([made.stdout, other.privateIp]).apply(([out, ip]) => {
      const m = decodeSettings(out);
      return (m.JOIN_TOKEN ? { ...m, via: ip } : {}) as unknown as JoinMaterial;
    });
  }

  /** kubeadm: once the first server has rejoined, the material made for it is revoked where it was made. */
  private revokeRejoin(joined: pulumi.Resource, material?: pulumi.Output<JoinMaterial>): void {
    const other = this.rejoinServer;
    const dist = this.a.distribution;
    if (!other || !material || !dist.revokeRejoinMaterialCommand) return;
    remoteCommand(
      `${this.first.name}-revoke-rejoin`,
      {
        connection: this.a.connect(other),
        create: dist.revokeRejoinMaterialCommand,
        stdin: pulumi.secret(
          material.apply((m) => scriptStdin(dist.script, encodeSettings(m.JOIN_TOKEN ? { JOIN_TOKEN: m.JOIN_TOKEN } : {}))),
        ),
        logging: "none",
        triggers: [this.first.machineId],
      },
      { parent: this.a.parent, dependsOn: [joined] },
    );
  }

  /** kubeadm: once the node has joined, its token and the uploaded certificates are deleted. */
  private revoke(h: Host, joined: pulumi.Resource, material?: pulumi.Output<JoinMaterial>): void {
    const dist = this.a.distribution;
    if (!material || !dist.revokeJoinMaterialCommand) return;
    remoteCommand(
      `${h.name}-revoke-join`,
      {
        connection: this.onFirst,
        create: dist.revokeJoinMaterialCommand,
        stdin: pulumi.secret(
          material.apply((m) => scriptStdin(dist.script, encodeSettings({ KUBECTL: dist.kubectl, JOIN_TOKEN: m.JOIN_TOKEN }))),
        ),
        logging: "none",
        triggers: [h.machineId],
      },
      { parent: this.a.parent, dependsOn: [joined] },
    );
  }
}
