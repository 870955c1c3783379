/** The cloudnative-pg component: CloudNativePG operator: PostgreSQL clusters as Kubernetes objects. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const CLOUDNATIVE_PG: CatalogEntry = {
  name: "cloudnative-pg",
  layer: "addon",
  description: "CloudNativePG operator: PostgreSQL clusters as Kubernetes objects",
  helm: { chart: "cloudnative-pg", repo: "https://cloudnative-pg.github.io/charts", version: "0.29.0" },
  namespace: "cnpg-system",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { operator: { resources: res(10, 64, 500, 256), replicas: 1 } },
  values: (_ctx, w) => ({ resources: w.operator.resources }),
};
