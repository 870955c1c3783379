import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { formatTable } from "../table";
import { CatalogEntry, PlatformContext } from "./catalog";
import { LocalPathStorage } from "./local-path";
import { mergeValues } from "./merge";
import { NodeCounts, podCount, memoryMiB } from "./resources";
import { DEFAULT_CERT_SECRET, PRODUCTION_ISSUER, STAGING_ISSUER } from "./values/shared";

export const ACME_SERVERS: Readonly<Record<string, string>> = {
  [STAGING_ISSUER]: "https://acme-staging-v02.api.letsencrypt.org/directory",
  [PRODUCTION_ISSUER]: "https://acme-v02.api.letsencrypt.org/directory",
};

/** A git repository Argo CD takes the cluster's workloads from. */
export interface GitOpsSource {
  readonly repoUrl: string;
  readonly path: string;
  readonly revision: string;
  /** An HTTPS token or an SSH private key (secret); absent for a public repository. */
  readonly credential?: pulumi.Input<string>;
}

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
  readonly after: readonly pulumi.Resource[];
}

/** The values a component is installed with: the catalog's defaults under the stack's overrides. */
export function componentValues(entry: CatalogEntry, ctx: PlatformContext, overrides: PlatformArgs["overrides"]) {
  return mergeValues(entry.values(ctx, entry.workloads), overrides[entry.name] ?? {});
}

/**
 * Installs the enabled components as Helm releases, in parallel except where one needs another's
 * CRDs, then the objects the program owns itself: Let's Encrypt ClusterIssuers, the ingress's
 * default certificate, local-path storage, and the GitOps hand-off to Argo CD.
 */
export class Platform extends pulumi.ComponentResource {
  public readonly releases: ReadonlyMap<string, pulumi.Resource>;
  public readonly storageClass: string;
  public readonly clusterIssuers: readonly string[];

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:k8s:Platform", name, {}, opts);
    const { provider } = args;
    // With Dex, Argo CD and Grafana log in through it with client secrets made here (secret in state).
    const sso = args.components.some((c) => c.name === "dex")
      ? {
          argocd: pulumi.secret(
            new random.RandomPassword("sso-argocd-client", { length: 40, special: false }, { parent: this }).result,
          ),
          grafana: pulumi.secret(
            new random.RandomPassword("sso-grafana-client", { length: 40, special: false }, { parent: this }).result,
          ),
        }
      : undefined;
    const ctx: PlatformContext = { ...args.context, sso };
    const installed = new Map<string, pulumi.Resource>();
    const enabled = new Set(args.components.map((c) => c.name));

    for (const entry of installOrder(args.components)) {
      const after = entry.needs.filter((n) => enabled.has(n)).map((n) => installed.get(n)!);
      const childOpts = { parent: this, provider, dependsOn: [...args.after, ...after] };
      if (entry.helm) {
        installed.set(
          entry.name,
          new k8s.helm.v3.Release(
            entry.name,
            {
              name: entry.name,
              chart: entry.helm.chart,
              version: entry.helm.version,
              ...(entry.helm.repo ? { repositoryOpts: { repo: entry.helm.repo } } : {}),
              namespace: entry.namespace,
              createNamespace: true,
              values: componentValues(entry, ctx, args.overrides),
              // A failed install or upgrade rolls back instead of leaving a half-applied release.
              atomic: true,
              cleanupOnFail: true,
              timeout: 900,
            },
            childOpts,
          ),
        );
      } else if (entry.name === "mackerel-container-agent") {
        installed.set(entry.name, new k8s.rbac.v1.ClusterRole("mackerel-container-agent", mackerelClusterRole(), childOpts));
      } else if (entry.name === "local-path") {
        installed.set(
          entry.name,
          new LocalPathStorage(
            "local-path",
            {
              namespace: entry.namespace,
              path: `${ctx.dataPath}/local-path`,
              resources: entry.workloads.provisioner.resources,
              isDefault: true,
            },
            childOpts,
          ),
        );
      }
    }
    this.releases = installed;
    this.storageClass = ctx.storageClass;

    const certManager = installed.get("cert-manager");
    this.clusterIssuers = certManager ? [STAGING_ISSUER, PRODUCTION_ISSUER] : [];
    if (certManager) {
      const issuers = this.clusterIssuers.map(
        (issuer) =>
          new k8s.apiextensions.CustomResource(issuer, clusterIssuer(issuer, ctx.acmeEmail, ctx.ingressClass), {
            parent: this,
            provider,
            dependsOn: [certManager],
          }),
      );
      const ingress = args.components.find((c) => c.choice === "ingress");
      if (ingress) {
        new k8s.apiextensions.CustomResource("ingress-default-certificate", defaultCertificate(ingress.namespace, ctx.domain), {
          parent: this,
          provider,
          dependsOn: [...issuers, installed.get(ingress.name)!],
        });
      }
    }

    const argo = installed.get("argo-cd");
    if (argo && args.gitops) {
      const source = args.gitops;
      const credential = source.credential
        ? [
            new k8s.core.v1.Secret("gitops-repository", repositorySecret(source.repoUrl, pulumi.secret(source.credential)), {
              parent: this,
              provider,
              dependsOn: [argo],
            }),
          ]
        : [];
      new k8s.apiextensions.CustomResource("gitops-root", rootApplication(source), {
        parent: this,
        provider,
        dependsOn: [argo, ...credential],
      });
    }
    this.registerOutputs({ storageClass: this.storageClass, clusterIssuers: this.clusterIssuers });
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

/**
 * What Mackerel's container agent needs from the kubelet (pod list and stats): bind it to the
 * service account of each workload that runs the sidecar.
 */
export function mackerelClusterRole() {
  return {
    metadata: { name: "mackerel-container-agent" },
    rules: [{ apiGroups: [""], resources: ["nodes/proxy", "nodes/stats", "nodes/spec"], verbs: ["get"] }],
  };
}

export function clusterIssuer(name: string, email: string, ingressClass: string) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name },
    spec: {
      acme: {
        server: ACME_SERVERS[name],
        ...(email ? { email } : {}),
        privateKeySecretRef: { name: `${name}-account-key` },
        // HTTP-01 through the ingress controller, which the NLB exposes on port 80.
        solvers: [{ http01: { ingress: { ingressClassName: ingressClass } } }],
      },
    },
  };
}

export function defaultCertificate(namespace: string, domain: pulumi.Input<string>) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "ingress-default", namespace },
    spec: {
      secretName: DEFAULT_CERT_SECRET,
      dnsNames: [domain],
      issuerRef: { kind: "ClusterIssuer", name: PRODUCTION_ISSUER },
    },
  };
}

export function repositorySecret(repoUrl: string, credential: pulumi.Input<string>) {
  const ssh = !repoUrl.startsWith("https://");
  return {
    metadata: { name: "gitops-repository", namespace: "argocd", labels: { "argocd.argoproj.io/secret-type": "repository" } },
    type: "Opaque",
    stringData: {
      type: "git",
      url: repoUrl,
      ...(ssh ? { sshPrivateKey: credential } : { username: "git", password: credential }),
    },
  };
}

/** The app-of-apps: Argo CD syncs everything under the path, and owns it from then on. */
export function rootApplication(source: GitOpsSource) {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: "root", namespace: "argocd" },
    spec: {
      project: "default",
      source: { repoURL: source.repoUrl, targetRevision: source.revision, path: source.path, directory: { recurse: true } },
      destination: { server: "https://kubernetes.default.svc", namespace: "argocd" },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  };
}

export interface ComponentRequests {
  readonly name: string;
  readonly version: string;
  /** Memory requested on A1 nodes, and on each micro node, in MiB. */
  readonly a1MemoryMi: number;
  readonly microMemoryMiPerNode: number;
}

/** What each component asks of the nodes: DaemonSets that tolerate micros put one pod on each. */
export function platformRequests(components: readonly CatalogEntry[], nodes: NodeCounts): ComponentRequests[] {
  return components.map((c) => {
    let a1 = 0;
    let micro = 0;
    for (const w of Object.values(c.workloads)) {
      const perPod = memoryMiB(w.resources);
      if (w.replicas === "allNodes" && c.toleratesMicro) {
        a1 += perPod * (nodes.all - nodes.micro);
        micro += nodes.micro > 0 ? perPod : 0;
      } else {
        a1 += perPod * podCount(w.replicas, nodes);
      }
    }
    return { name: c.name, version: c.helm?.version ?? "objects", a1MemoryMi: a1, microMemoryMiPerNode: micro };
  });
}

export function formatRequestsTable(rows: readonly ComponentRequests[]): string {
  const lines = [
    ["component", "version", "memory (A1)", "memory (per micro)"],
    ...rows.map((r) => [r.name, r.version, `${r.a1MemoryMi} Mi`, `${r.microMemoryMiPerNode} Mi`]),
  ];
  const total = rows.reduce((s, r) => s + r.a1MemoryMi, 0);
  lines.push(["total", "", `${total} Mi`, `${rows.reduce((s, r) => s + r.microMemoryMiPerNode, 0)} Mi`]);
  return formatTable(lines, 2);
}

export class PlatformCapacityError extends Error {
  constructor(table: string, what: string) {
    super(
      `The enabled platform components request more memory than the nodes can give (${what}); nothing was created.\n${table}\nDisable addons, choose victoria-metrics-k8s-stack, or add A1 memory.`,
    );
    this.name = "PlatformCapacityError";
  }
}

/** Refuses a platform whose requests exceed the nodes' allocatable memory (after kubelet reservations). */
export function checkPlatformCapacity(
  rows: readonly ComponentRequests[],
  allocatable: { a1Mi: number; microMiPerNode: number },
): void {
  const a1 = rows.reduce((s, r) => s + r.a1MemoryMi, 0);
  const micro = rows.reduce((s, r) => s + r.microMemoryMiPerNode, 0);
  if (a1 > allocatable.a1Mi)
    throw new PlatformCapacityError(formatRequestsTable(rows), `${a1} Mi of ${allocatable.a1Mi} Mi allocatable on A1 nodes`);
  if (micro > allocatable.microMiPerNode) {
    throw new PlatformCapacityError(
      formatRequestsTable(rows),
      `${micro} Mi of ${allocatable.microMiPerNode} Mi allocatable on each micro node`,
    );
  }
}
