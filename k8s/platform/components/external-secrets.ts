/** The external-secrets component: External Secrets Operator: secrets synced from Vault, OCI Vault or another store. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const EXTERNAL_SECRETS: CatalogEntry = {
  name: "external-secrets",
  layer: "addon",
  description: "External Secrets Operator: secrets synced from Vault, OCI Vault or another store",
  helm: { chart: "external-secrets", repo: "https://charts.external-secrets.io", version: "2.9.0" },
  namespace: "external-secrets",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: {
    controller: { resources: res(10, 64, 500, 192), replicas: 1 },
    webhook: { resources: res(10, 32, 200, 96), replicas: 1 },
    certController: { resources: res(10, 32, 200, 96), replicas: 1 },
  },
  values: (_ctx, w) => ({
    installCRDs: true,
    resources: w.controller.resources,
    webhook: { resources: w.webhook.resources },
    certController: { resources: w.certController.resources },
  }),
};
