/**
 * What a platform component is: the shape every catalog entry (components/) has. Each names its
 * chart, repository and exact version (Renovate reads them), or the objects the program creates
 * instead; its namespace, layer, the components whose CRDs it needs, the architectures its images
 * exist for, its workloads with their requests and limits, and the values it is installed with.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { Placement, PlatformContext } from "./context";
import type { Workload, Workloads } from "./resources";

export type Layer = "base" | "addon";
/** Alternatives of which a stack picks one. */
export type Choice = "ingress" | "storage" | "monitoring";

export interface HelmSource {
  readonly chart: string;
  /** Chart repository URL; empty for an OCI chart reference in `chart`. */
  readonly repo: string;
  readonly version: string;
}

export interface CatalogEntry {
  readonly name: string;
  readonly layer: Layer;
  /** For alternatives: which choice this entry is an option of. */
  readonly choice?: Choice;
  readonly description: string;
  /** How it installs: a Helm chart, or (without one) the objects the program creates itself. */
  readonly helm?: HelmSource;
  readonly objects?: ObjectsBuilder;
  readonly namespace: string;
  /** Components whose CRDs (or services) this one needs first. */
  readonly needs: readonly string[];
  /** Architectures its images are published for. */
  readonly arch: readonly ("arm64" | "amd64")[];
  /** Runs on the tainted small nodes too (its values get the toleration through `Placement`). */
  readonly onSmallNodes: boolean;
  readonly workloads: Readonly<Record<string, Workload>>;
  /** The values it is installed with (before the stack's overrides). */
  readonly values: (ctx: PlatformContext, w: Workloads, place: Placement) => Record<string, unknown>;
  /** Dotted value paths the stack must set through componentValues before enabling it. */
  readonly requiredValues?: readonly string[];
  /**
   * The program's own settings of the component, given under componentValues.<name> beside its
   * Helm values: validated by this schema before anything is registered, never passed to Helm,
   * and handed to `objectsAfter`.
   */
  readonly settings?: z.ZodObject;
  /** Objects created once the chart is installed (its CRDs exist then), from the component's settings. */
  readonly objectsAfter?: (args: ObjectsArgs & { readonly settings: Record<string, unknown> }) => void;
  /** What the cluster gains from it that other components refer to by name. */
  readonly provides?: Provides;
  /**
   * Ports it listens on in the nodes' own network (hostNetwork), which other nodes reach: each
   * becomes a node-to-node firewall rule while the component is enabled.
   */
  readonly hostPorts?: readonly HostPort[];
  /**
   * What its pods take from the node (host ports, hostNetwork, hostPath, privileged containers),
   * in its values or by its chart's defaults: its namespace then admits privileged pods; every
   * other namespace enforces PodSecurity baseline (podSecurityLevel).
   */
  readonly hostAccess?: readonly string[];
  /**
   * What it serves through the ingress, and how each is locked: none ships with a chart default
   * credential (test/k8s/platform-security.test.ts checks every entry's values against this).
   */
  readonly exposes?: readonly Exposure[];
  /** Secrets its values refer to by name, created in its namespace before its release (values stay free of them). */
  readonly secrets?: (ctx: PlatformContext) => Readonly<Record<string, Readonly<Record<string, pulumi.Input<string>>>>>;
}

/**
 * How a UI or API on the internet is locked: a credential the program generates (kept in Pulumi
 * state, read from a secret output), single sign-on through an OIDC provider, or an IP allow-list
 * from adminCidrs.
 */
export type Lock = "generated-credential" | "sso" | "admin-cidrs";

export interface Exposure {
  /** The host name's first label: <host>.<clusterDomain>. */
  readonly host: string;
  readonly locks: readonly Lock[];
  /**
   * For a generated credential: the dotted values path that sets it (a Secret's name or a hash),
   * so the chart's own default (random in the cluster, or a fixed one) is never used.
   */
  readonly credentialValue?: string;
}

/** What the cluster gains from a component that the platform or other components build on. */
export interface Provides {
  readonly ingressClass?: string;
  readonly storageClass?: string;
  /** Issues certificates: the platform adds the Let's Encrypt ClusterIssuers and the ingress's default certificate. */
  readonly certificates?: boolean;
  /** An OIDC provider: the platform makes client secrets for Argo CD and Grafana. */
  readonly singleSignOn?: boolean;
  /** Syncs workloads from git: the platform hands the stack's GitOps repository over to it. */
  readonly gitops?: boolean;
}

/** What an objects builder gets: the values it needs and where to register its resources. */
export interface ObjectsArgs {
  readonly entry: CatalogEntry;
  readonly ctx: PlatformContext;
  readonly opts: pulumi.ResourceOptions;
}

/** Creates a component's objects (no chart) and returns the resource later components wait for. */
export type ObjectsBuilder = (args: ObjectsArgs) => pulumi.Resource;

export interface HostPort {
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  readonly description: string;
}

/** node-exporter listens on the host network; Prometheus (or vmagent) scrapes it on every node. */
export const NODE_EXPORTER_PORT: HostPort = {
  protocol: "tcp",
  port: 9100,
  description: "node-exporter metrics, scraped from every node",
};

/** The host ports of the enabled components, once each. */
export function componentHostPorts(components: readonly CatalogEntry[]): HostPort[] {
  const ports = components.flatMap((c) => c.hostPorts ?? []);
  return ports.filter((p, i) => ports.findIndex((q) => q.protocol === p.protocol && q.port === p.port) === i);
}

/** The name an enabled component provides (the ingress class, the default StorageClass). */
export function provided(components: readonly CatalogEntry[], what: "ingressClass" | "storageClass"): string {
  const name = components.map((c) => c.provides?.[what]).find((n) => n !== undefined);
  if (!name) throw new Error(`no enabled component provides the ${what}`);
  return name;
}

export const BOTH: ("arm64" | "amd64")[] = ["arm64", "amd64"];
