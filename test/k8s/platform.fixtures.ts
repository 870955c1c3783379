/** Shared by the platform tests: fixtures and helpers. */
import { strict as assert } from "assert";
import { ADDON_NAMES } from "../../k8s/platform/catalog";
import { MINIMAL_CONFIG, ofType, Registered, RunResult, runOk } from "../../scripts/mock-program";

export type Model = new (object: never) => { validate(): void };

/** The schema packages are ES modules only; a real dynamic import loads them from this CommonJS test. */
export const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<Record<string, Model>>;
export const MODELS: Record<string, Model> = {};
before(async () => {
  const load = async (name: string, specifier: string) => (MODELS[name] = (await importEsm(specifier))[name]);
  await Promise.all([
    load("Application", "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application"),
    load("Certificate", "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate"),
    load("ClusterIssuer", "@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer"),
    load("Deployment", "kubernetes-models/apps/v1/Deployment"),
    load("ConfigMap", "kubernetes-models/v1/ConfigMap"),
    load("Namespace", "kubernetes-models/v1/Namespace"),
    load("Secret", "kubernetes-models/v1/Secret"),
    load("ServiceAccount", "kubernetes-models/v1/ServiceAccount"),
    load("ClusterRole", "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole"),
    load("ClusterRoleBinding", "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding"),
    load("Role", "kubernetes-models/rbac.authorization.k8s.io/v1/Role"),
    load("RoleBinding", "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding"),
    load("StorageClass", "kubernetes-models/storage.k8s.io/v1/StorageClass"),
  ]);
});
export const validate = (model: string, object: unknown) => new MODELS[model](object as never).validate();

export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer";
export const CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate";
export const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";

export const run = runOk;

export const releases = (r: RunResult) => new Map(ofType(r, RELEASE).map((x) => [x.name, x]));
export const dependsOn = (a: Registered, b: Registered) => a.dependencies.includes(b.urn);

/** Deep search: does `needle` occur (deep-equal) anywhere inside `hay`? */
export function contains(hay: unknown, needle: unknown): boolean {
  try {
    assert.deepEqual(hay, needle);
    return true;
  } catch {
    if (hay && typeof hay === "object") return Object.values(hay as object).some((v) => contains(v, needle));
    return false;
  }
}

/** The stack config plus every addon, with the values each addon requires. */
export const EVERY_ADDON = {
  addons: ADDON_NAMES,
  componentValues: {
    "external-dns": { provider: { name: "oci" } },
    metallb: { addresses: ["10.0.0.240-10.0.0.250"] },
    dex: {
      config: {
        connectors: [
          {
            type: "github",
            id: "github",
            name: "GitHub",
            config: { clientID: "$GITHUB_CLIENT_ID", clientSecret: "$GITHUB_CLIENT_SECRET" },
          },
        ],
      },
    },
    "gha-runner-scale-set": { githubConfigUrl: "https://github.com/example/repo", githubConfigSecret: "github-app" },
  },
};

/** The base choices the every-addon stack does not make: ingress-nginx, Longhorn and VictoriaMetrics. */
export const OTHER_CHOICES = {
  ...MINIMAL_CONFIG,
  tier: "payg",
  acceptCharges: true,
  budgetAmount: 50, // two A1 nodes of 2 OCPU / 12 GB: billed beyond the free half
  ingressController: "ingress-nginx",
  storage: "longhorn",
  monitoring: "victoria-metrics-k8s-stack",
  nodes: [
    { name: "server-1", role: "server", ocpus: 2, memoryGb: 12, dataVolumeGb: 50 },
    { name: "agent-1", role: "agent", ocpus: 2, memoryGb: 12, dataVolumeGb: 50 },
  ],
};
