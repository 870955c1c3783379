/** The external-dns component: DNS records for Ingresses in your DNS provider (set provider.name and its credentials). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const EXTERNAL_DNS: CatalogEntry = {
  name: "external-dns",
  layer: "addon",
  description: "DNS records for Ingresses in your DNS provider (set provider.name and its credentials)",
  helm: { chart: "external-dns", repo: "https://kubernetes-sigs.github.io/external-dns/", version: "1.21.1" },
  namespace: "external-dns",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { controller: { resources: res(10, 48, 200, 96), replicas: 1 } },
  values: (ctx, w) => ({
    resources: w.controller.resources,
    sources: ["ingress"],
    // Never deletes records it did not create; owned records are marked with the cluster name.
    policy: "upsert-only",
    txtOwnerId: ctx.clusterName,
    domainFilters: [ctx.domain],
  }),
  requiredValues: ["provider.name"],
};
