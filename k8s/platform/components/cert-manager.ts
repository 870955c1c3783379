/** The cert-manager component: Certificates from Let's Encrypt (staging and production ClusterIssuers, HTTP-01 through the ingress). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const CERT_MANAGER: CatalogEntry = {
  name: "cert-manager",
  provides: { certificates: true },
  layer: "base",
  description: "Certificates from Let's Encrypt (staging and production ClusterIssuers, HTTP-01 through the ingress)",
  helm: { chart: "cert-manager", repo: "https://charts.jetstack.io", version: "v1.21.1" },
  namespace: "cert-manager",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: {
    controller: { resources: res(20, 64, 500, 192), replicas: 1 },
    webhook: { resources: res(10, 32, 200, 96), replicas: 1 },
    cainjector: { resources: res(10, 64, 200, 192), replicas: 1 },
    // A post-install check job, not a steady pod.
    startupapicheck: { resources: res(10, 32, 100, 64), replicas: 0 },
  },
  values: (_ctx, w) => ({
    // The chart installs and keeps its CRDs (kept on uninstall, so certificates survive a reinstall).
    crds: { enabled: true, keep: true },
    resources: w.controller.resources,
    webhook: { resources: w.webhook.resources },
    cainjector: { resources: w.cainjector.resources },
    startupapicheck: { resources: w.startupapicheck.resources },
  }),
};
