/** The argo-cd component: GitOps: takes over the cluster's workloads from a git repository. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";
import { argoCdValues } from "../values/argo-cd";

export const ARGO_CD: CatalogEntry = {
  name: "argo-cd",
  provides: { gitops: true },
  layer: "base",
  description: "GitOps: takes over the cluster's workloads from a git repository",
  helm: { chart: "argo-cd", repo: "https://argoproj.github.io/argo-helm", version: "10.1.1" },
  namespace: "argocd",
  // No CRD of cert-manager's: Argo CD's Ingress only carries the cluster-issuer annotation, which
  // cert-manager's ingress-shim acts on whenever it runs; the chart's own Certificate
  // (server.certificate.enabled, "requires cert-manager" in argo-helm's README) is off by default
  // and here, and Helm's wait (pkg/kube/ready.go) checks no Ingress. So it installs beside
  // cert-manager, not after it (issue 24: one slow step fewer on a first up).
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: {
    controller: { resources: res(100, 256, 1000, 512), replicas: 1 },
    server: { resources: res(20, 64, 500, 192), replicas: 1 },
    // Helm renders of a chart with many templates peak in the repo server; 256 MiB was killed.
    repoServer: { resources: res(20, 128, 1000, 512), replicas: 1 },
    // Capped with maxmemory below the limit (values/argocd.ts): a cache evicts, never OOMs.
    redis: { resources: res(10, 32, 200, 96), replicas: 1 },
    applicationSet: { resources: res(10, 48, 200, 128), replicas: 1 },
    notifications: { resources: res(10, 32, 200, 64), replicas: 1 },
  },
  exposes: [
    { host: "argocd", locks: ["generated-credential", "sso"], credentialValue: "configs.secret.argocdServerAdminPassword" },
  ],
  values: argoCdValues,
};
