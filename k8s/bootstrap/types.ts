import * as pulumi from "@pulumi/pulumi";
import type { NodeRole, Taint } from "../node";

export { NODE_ROLES } from "../node";
export type { NodeRole } from "../node";

/** A machine to make a node of; nothing here is specific to a cloud. */
export interface Host {
  /** Node name in Kubernetes. */
  readonly name: string;
  readonly role: NodeRole;
  /** Kubernetes architecture (arm64, amd64). */
  readonly arch: string;
  /** Address to SSH to: a public IP, or a private one reached through the bastion. */
  readonly address: pulumi.Input<string>;
  /** Address on the private network: node IP, and what other nodes connect to. */
  readonly privateIp: pulumi.Input<string>;
  /** Memory of the host in GB, to size the kubelet's reservations. */
  readonly memoryGb: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** Changes when the machine is replaced (an instance ID): the bootstrap of the host runs again. */
  readonly machineId: pulumi.Input<string>;
  /** What the machine is (its type and size): a change of it is rolled out like an upgrade, drained first. */
  readonly machine: string;
  /** Resources the host's bootstrap waits for (volume attachments...). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Reach this host through the bastion. */
  readonly viaBastion: boolean;
  /** The host's SSH public host key ("ssh-ed25519 AAAA..."): every connection to it checks it. */
  readonly hostKey?: pulumi.Input<string>;
  /** Its own SSH user, when not the access's. */
  readonly user?: string;
  /** Prepared by cloud-init (the default): its wait waits for cloud-init too; false for a host prepared over SSH. */
  readonly cloudInit?: boolean;
  /** The resolv.conf with real upstream resolvers for the kubelet (default: systemd-resolved's upstream list). */
  readonly resolvConf?: string;
}

export interface SshAccess {
  readonly user: string;
  /** The private key (secret); absent means the SSH agent of the machine running Pulumi holds it. */
  readonly privateKey?: pulumi.Input<string>;
  /** A public host that forwards SSH to hosts with `viaBastion`. */
  readonly bastion?: pulumi.Input<string>;
  /** The bastion's SSH public host key, checked on the first hop. */
  readonly bastionHostKey?: pulumi.Input<string>;
}
