/** The dex component: Dex at dex.<domain>: single sign-on for Argo CD and Grafana through your connector (set config.connectors, e.g. GitHub). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";
import { dexValues } from "../values/dex";

export const DEX: CatalogEntry = {
  name: "dex",
  provides: { singleSignOn: true },
  layer: "addon",
  description:
    "Dex at dex.<domain>: single sign-on for Argo CD and Grafana through your connector (set config.connectors, e.g. GitHub)",
  helm: { chart: "dex", repo: "https://charts.dexidp.io", version: "0.24.0" },
  namespace: "dex",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { dex: { resources: res(10, 32, 200, 96), replicas: 1 } },
  // Dex's own login page hands over to the stack's connector (required below); it has no local users.
  exposes: [{ host: "dex", locks: ["sso"] }],
  values: dexValues,
  requiredValues: ["config.connectors"],
};
