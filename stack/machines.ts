/**
 * What the cluster is built on, whatever provides it: Oracle Cloud instances (stack/oracle.ts) or
 * machines the stack's owner already has (stack/existing.ts). index.ts asks for one of them and
 * builds the same cluster and platform on either.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DrainGate } from "../k8s/bootstrap/drain-gate";
import type { ApiVip } from "../k8s/bootstrap/kube-vip";
import type { Host, SshAccess } from "../k8s/bootstrap/types";
import type { ClusterOutputs } from "../outputs";
import type { CapacityNode } from "./platform-plan";

export interface Machines {
  readonly hosts: readonly Host[];
  readonly ssh: SshAccess;
  /** The API endpoint: the load balancer, a VIP, a named load balancer, or the first server. */
  readonly apiEndpoint: pulumi.Input<string>;
  /** kubeadm: where agents reach the control plane, and what must exist before it answers. */
  readonly internalApi?: { readonly address: string; readonly ready?: pulumi.Input<pulumi.Resource> };
  readonly apiVip?: ApiVip;
  /** An existing load balancer in front of the servers, where nodes join (apiAddress). */
  readonly registrationAddress?: string;
  /** The CIDRs holding the nodes' private addresses, from config (the VCN): where the pod network leaves. */
  readonly nodeNetworks?: readonly string[];
  /** Where web traffic arrives: what every Ingress's status publishes, and the sslip.io domain. */
  readonly ingressAddress: pulumi.Input<string>;
  /** Existing machines outlive the stack: the distribution is removed from every one, the first server too. */
  readonly uninstallEverywhere: boolean;
  readonly rolling: boolean;
  readonly drainGate?: DrainGate;
  /** The outputs only this kind of machine has (Oracle Cloud's network, the free-tier usage), and the nodes. */
  readonly outputs: Pick<ClusterOutputs, "nodes" | "ingressPublicIp" | "sshUser"> & Partial<ClusterOutputs>;
}

export type { CapacityNode };
