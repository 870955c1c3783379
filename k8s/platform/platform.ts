/**
 * The Platform component: installs the enabled components, each as its catalog entry says (a Helm
 * release, or the objects it builds), in parallel except where one needs another's CRDs; then
 * what the enabled components' capabilities call for: ClusterIssuers and the ingress's default
 * certificate with a certificate issuer, SSO client secrets with an OIDC provider, the GitOps
 * hand-off with a GitOps engine. It names no component.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { SMALL_NODE_TOLERATION } from "../labels";
import type { CatalogEntry, Provides } from "./component";
import type { Placement, PlatformContext } from "./context";
import { mergeValues } from "./merge";
import { podSecurityLabels, podSecurityLevel } from "./pod-security";
import { clusterIssuer, defaultCertificate, GitOpsSource, repositorySecret, rootApplication } from "./objects";
import { PRODUCTION_ISSUER, STAGING_ISSUER } from "./values/shared";

export type { GitOpsSource } from "./objects";
export { podSecurityLabels, podSecurityLevel } from "./pod-security";

export interface PlatformArgs {
  /** The cluster's Kubernetes provider. */
  readonly provider: k8s.Provider;
  readonly context: PlatformContext;
  /** Enabled catalog entries. */
  readonly components: readonly CatalogEntry[];
  /** The stack's values per component, merged over the catalog's. */
  readonly overrides: Readonly<Record<string, Record<string, unknown>>>;
  readonly gitops?: GitOpsSource;
  /** What must exist before anything is installed (every node Ready). */
  readonly installAfter: readonly pulumi.Resource[];
}

/** Where an entry's pods may go: onto the small nodes only when the entry says it runs there. */
export function placementOf(entry: CatalogEntry): Placement {
  return { tolerations: entry.onSmallNodes ? [SMALL_NODE_TOLERATION] : [] };
}

/** The stack's componentValues of an entry, split into its Helm values and the program's own settings. */
export function splitOverrides(entry: CatalogEntry, overrides: PlatformArgs["overrides"]) {
  const all = overrides[entry.name] ?? {};
  const own = new Set(Object.keys(entry.settings?.shape ?? {}));
  return {
    helm: Object.fromEntries(Object.entries(all).filter(([k]) => !own.has(k))),
    settings: Object.fromEntries(Object.entries(all).filter(([k]) => own.has(k))),
  };
}

/** The values a component is installed with: the catalog's defaults under the stack's overrides. */
export function componentValues(entry: CatalogEntry, ctx: PlatformContext, overrides: PlatformArgs["overrides"]) {
  return mergeValues(entry.values(ctx, entry.workloads, placementOf(entry)), splitOverrides(entry, overrides).helm);
}

/** Namespaces that exist in every cluster and are not the platform's to label (kube-system is exempt from PodSecurity). */
const SYSTEM_NAMESPACES = new Set(["kube-system"]);

export class Platform extends pulumi.ComponentResource {
  public readonly releases: ReadonlyMap<string, pulumi.Resource>;
  /** Admin passwords the program made for the UIs it serves, by host (grafana, argocd): secret. */
  public readonly adminPasswords: Readonly<Record<string, pulumi.Output<string>>>;
  public readonly storageClass: string;
  public readonly clusterIssuers: readonly string[];

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:k8s:Platform", name, {}, opts);
    const admin = this.adminCredentials(args.components);
    this.adminPasswords = Object.fromEntries(Object.entries(admin).map(([host, p]) => [host, pulumi.secret(p.result)]));
    const ctx: PlatformContext = {
      ...args.context,
      sso: this.ssoSecrets(args.components),
      admin: {
        grafanaPassword: this.adminPasswords.grafana ?? "",
        argocdPasswordHash: admin.argocd ? pulumi.secret(admin.argocd.bcryptHash) : "",
      },
    };
    this.releases = this.install(args, ctx);
    this.storageClass = ctx.storageClass;
    const issuer = this.capable(args.components, "certificates");
    this.clusterIssuers = issuer ? [STAGING_ISSUER, PRODUCTION_ISSUER] : [];
    if (issuer) this.certificates(args, ctx, issuer);
    const gitops = this.capable(args.components, "gitops");
    if (gitops && args.gitops) this.handOff(args, gitops, args.gitops);
    this.registerOutputs({ storageClass: this.storageClass, clusterIssuers: this.clusterIssuers });
  }

  /** The installed component that provides a capability, if one is enabled. */
  private capable(components: readonly CatalogEntry[], what: keyof Provides): pulumi.Resource | undefined {
    const entry = components.find((c) => c.provides?.[what] === true);
    return entry && this.releases.get(entry.name);
  }

  /** With an OIDC provider, Argo CD and Grafana log in through it with client secrets made here (secret in state). */
  private ssoSecrets(components: readonly CatalogEntry[]): PlatformContext["sso"] {
    if (!components.some((c) => c.provides?.singleSignOn)) return undefined;
    const secret = (client: string) =>
      pulumi.secret(new random.RandomPassword(`sso-${client}-client`, { length: 40, special: false }, { parent: this }).result);
    return { argocd: secret("argocd"), grafana: secret("grafana") };
  }

  /** A random password for each UI whose lock is a generated credential (secret in state; rotate with pulumi up --replace). */
  private adminCredentials(components: readonly CatalogEntry[]): Record<string, random.RandomPassword> {
    const hosts = components.flatMap((c) => c.exposes ?? []).filter((e) => e.locks.includes("generated-credential"));
    return Object.fromEntries(
      [...new Set(hosts.map((e) => e.host))].map((host) => [
        host,
        new random.RandomPassword(`${host}-admin`, { length: 32, special: false }, { parent: this }),
      ]),
    );
  }

  /** The namespaces of the enabled charts, labelled with their PodSecurity level, before anything is installed in them. */
  private namespaces(args: PlatformArgs): Map<string, k8s.core.v1.Namespace> {
    const names = [...new Set(args.components.filter((c) => c.helm).map((c) => c.namespace))].filter(
      (n) => !SYSTEM_NAMESPACES.has(n),
    );
    const opts = { parent: this, provider: args.provider, dependsOn: [...args.installAfter] };
    return new Map(
      names.map((name) => [
        name,
        new k8s.core.v1.Namespace(
          `namespace-${name}`,
          { metadata: { name, labels: podSecurityLabels(podSecurityLevel(name, args.components)) } },
          opts,
        ),
      ]),
    );
  }

  /** The Secrets an entry's values name, in its namespace (their contents secret in state). */
  private secrets(entry: CatalogEntry, ctx: PlatformContext, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
    return Object.entries(entry.secrets?.(ctx) ?? {}).map(
      ([name, data]) =>
        new k8s.core.v1.Secret(
          `${entry.name}-${name}`,
          { metadata: { name, namespace: entry.namespace }, type: "Opaque", stringData: pulumi.secret(data) },
          opts,
        ),
    );
  }

  /** Every enabled entry, after the entries it needs: a Helm release, or the objects it builds. */
  private install(args: PlatformArgs, ctx: PlatformContext): Map<string, pulumi.Resource> {
    const installed = new Map<string, pulumi.Resource>();
    const enabled = new Set(args.components.map((c) => c.name));
    const namespaces = this.namespaces(args);
    for (const entry of installOrder(args.components)) {
      const needed = entry.needs.filter((n) => enabled.has(n)).map((n) => installed.get(n)!);
      const namespace = namespaces.get(entry.namespace);
      const inNamespace = [...args.installAfter, ...(namespace ? [namespace] : [])];
      const secrets = this.secrets(entry, ctx, { parent: this, provider: args.provider, dependsOn: inNamespace });
      const opts = { parent: this, provider: args.provider, dependsOn: [...inNamespace, ...secrets, ...needed] };
      if (entry.helm) {
        const release = new k8s.helm.v3.Release(
          entry.name,
          {
            name: entry.name,
            chart: entry.helm.chart,
            version: entry.helm.version,
            ...(entry.helm.repo ? { repositoryOpts: { repo: entry.helm.repo } } : {}),
            namespace: entry.namespace,
            // The Platform makes the namespace, with its PodSecurity labels.
            createNamespace: !namespace && !SYSTEM_NAMESPACES.has(entry.namespace),
            values: componentValues(entry, ctx, args.overrides),
            // A failed install or upgrade rolls back instead of leaving a half-applied release.
            atomic: true,
            cleanupOnFail: true,
            timeout: 900,
          },
          opts,
        );
        installed.set(entry.name, release);
        if (entry.objectsAfter) {
          const settings = entry.settings!.parse(splitOverrides(entry, args.overrides).settings) as Record<string, unknown>;
          entry.objectsAfter({ entry, ctx, settings, opts: { parent: this, provider: args.provider, dependsOn: [release] } });
        }
      } else if (entry.objects) {
        installed.set(entry.name, entry.objects({ entry, ctx, opts }));
      }
    }
    return installed;
  }

  /** Let's Encrypt's staging and production ClusterIssuers, and the ingress controller's default certificate. */
  private certificates(args: PlatformArgs, ctx: PlatformContext, issuer: pulumi.Resource): void {
    const opts = { parent: this, provider: args.provider };
    const issuers = this.clusterIssuers.map(
      (name) =>
        new k8s.apiextensions.CustomResource(name, clusterIssuer(name, ctx.acmeEmail, ctx.ingressClass), {
          ...opts,
          dependsOn: [issuer],
        }),
    );
    const ingress = args.components.find((c) => c.choice === "ingress");
    if (!ingress) return;
    new k8s.apiextensions.CustomResource("ingress-default-certificate", defaultCertificate(ingress.namespace, ctx.domain), {
      ...opts,
      dependsOn: [...issuers, this.releases.get(ingress.name)!],
    });
  }

  /** The GitOps hand-off: the repository's credential (if any) and the root Application. */
  private handOff(args: PlatformArgs, engine: pulumi.Resource, source: GitOpsSource): void {
    const opts = { parent: this, provider: args.provider };
    const credential = source.credential
      ? [
          new k8s.core.v1.Secret("gitops-repository", repositorySecret(source.repoUrl, pulumi.secret(source.credential)), {
            ...opts,
            dependsOn: [engine],
          }),
        ]
      : [];
    new k8s.apiextensions.CustomResource("gitops-root", rootApplication(source), { ...opts, dependsOn: [engine, ...credential] });
  }
}

/** Entries ordered so that each comes after the entries it needs. */
export function installOrder(entries: readonly CatalogEntry[]): CatalogEntry[] {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const done = new Set<string>();
  const out: CatalogEntry[] = [];
  const visit = (e: CatalogEntry, path: string[]) => {
    if (done.has(e.name)) return;
    if (path.includes(e.name)) throw new Error(`catalog cycle: ${[...path, e.name].join(" -> ")}`);
    for (const n of e.needs) {
      const dep = byName.get(n);
      if (dep) visit(dep, [...path, e.name]);
    }
    done.add(e.name);
    out.push(e);
  };
  entries.forEach((e) => visit(e, []));
  return out;
}
