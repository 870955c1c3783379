/** The vault component: HashiCorp Vault, standalone with file storage; Argo CD gets the argocd-vault-plugin to fill secrets from it. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";
import { AVP_RESOURCES } from "../values/argo-cd";

export const VAULT: CatalogEntry = {
  name: "vault",
  layer: "addon",
  description: "HashiCorp Vault, standalone with file storage; Argo CD gets the argocd-vault-plugin to fill secrets from it",
  helm: { chart: "vault", repo: "https://helm.releases.hashicorp.com", version: "0.34.1" },
  namespace: "vault",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: {
    server: { resources: res(50, 128, 500, 256), replicas: 1 },
    injector: { resources: res(10, 32, 200, 96), replicas: 1 },
    // The argocd-vault-plugin sidecar added to Argo CD's repo server when Vault is enabled.
    argocdPlugin: { resources: AVP_RESOURCES, replicas: 1, installedWith: "argo-cd" },
  },
  values: (ctx, w) => ({
    server: {
      standalone: { enabled: true },
      resources: w.server.resources,
      dataStorage: { enabled: true, size: "2Gi", storageClass: ctx.storageClass },
    },
    injector: { resources: w.injector.resources },
  }),
};
