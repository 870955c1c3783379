/** What a component's values are computed from: the cluster as the platform sees it. */
import type * as pulumi from "@pulumi/pulumi";
import type { DistributionName } from "../bootstrap/distributions";
import type { NodeCounts } from "./resources";

export interface PlatformContext {
  readonly clusterName: string;
  /** DNS zone of the cluster's ingress hostnames. */
  readonly domain: pulumi.Input<string>;
  /** The load balancer's public address: what every Ingress's status publishes. */
  readonly ingressAddress: pulumi.Input<string>;
  readonly distribution: DistributionName;
  /** Contact address for Let's Encrypt (optional). */
  readonly acmeEmail: string;
  readonly ingressClass: string;
  readonly storageClass: string;
  /** Where data volumes are mounted on nodes. */
  readonly dataPath: string;
  readonly nodes: NodeCounts;
  /** Storage the platform may claim on one data volume, in GiB. */
  readonly diskGi: number;
  /** Names of every enabled component. */
  readonly enabled: ReadonlySet<string>;
  /** OIDC client secrets for Argo CD and Grafana, made by the Platform when an SSO provider is enabled. */
  readonly sso?: { readonly argocd: pulumi.Input<string>; readonly grafana: pulumi.Input<string> };
  /** Admin passwords made by the Platform (random provider, secret in state) for the UIs it serves. */
  readonly admin?: {
    readonly grafanaPassword: pulumi.Input<string>;
    /** Argo CD's admin password, bcrypt-hashed as argocd-secret holds it. */
    readonly argocdPasswordHash: pulumi.Input<string>;
  };
}

/** Where a component's pods may go, derived from its catalog entry (never written by hand in values). */
export interface Placement {
  /** The small-node toleration for a component that runs there (`onSmallNodes`), else none. */
  readonly tolerations: readonly Record<string, string>[];
}
