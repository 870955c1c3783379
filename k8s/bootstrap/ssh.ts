/** How every remote command reaches its host: the user and key, the pinned host key, the jump host. */
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Host, SshAccess } from "./types";

/** SSH dial attempts while a node is still booting: 60 tries of up to 15 s each. */
const DIAL = { dialErrorLimit: 60, perDialTimeout: 15 } as const;

export type Connect = (h: Host) => command.types.input.remote.ConnectionArgs;

/** The connection to each host: directly, or through the bastion for hosts behind it. */
export function connector(ssh: SshAccess, hosts: readonly Host[]): Connect {
  if (hosts.some((h) => h.viaBastion) && !ssh.bastion) throw new Error("hosts behind a bastion need ssh.bastion");
  const key = ssh.privateKey ? { privateKey: pulumi.secret(ssh.privateKey) } : {};
  // Host keys are pinned when known: pulumi-command otherwise accepts any key the host offers.
  const pinned = (hostKey?: pulumi.Input<string>) => (hostKey ? { hostKey } : {});
  return (h) => ({
    host: h.address,
    user: h.user ?? ssh.user,
    ...key,
    ...DIAL,
    ...pinned(h.hostKey),
    ...(h.viaBastion ? { proxy: { host: ssh.bastion!, user: ssh.user, ...key, ...DIAL, ...pinned(ssh.bastionHostKey) } } : {}),
  });
}
