/** The sealed-secrets component: Secrets encrypted for the cluster, safe in a public git repository; keys never leave the cluster. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const SEALED_SECRETS: CatalogEntry = {
  name: "sealed-secrets",
  layer: "base",
  description: "Secrets encrypted for the cluster, safe in a public git repository; keys never leave the cluster",
  helm: { chart: "sealed-secrets", repo: "https://bitnami-labs.github.io/sealed-secrets", version: "2.18.5" },
  namespace: "kube-system",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { controller: { resources: res(10, 64, 200, 128), replicas: 1 } },
  values: (_ctx, w) => ({
    // The name kubeseal looks for by default, so `kubeseal` works without flags.
    fullnameOverride: "sealed-secrets-controller",
    resources: w.controller.resources,
  }),
};
