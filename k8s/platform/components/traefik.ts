/** The traefik component: Ingress controller: a DaemonSet on host ports 80/443 of the ingress nodes, behind the load balancer (Oracle's NLB, or MetalLB/your own on existing hosts). */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";
import { traefikValues } from "../values/traefik";

export const TRAEFIK: CatalogEntry = {
  name: "traefik",
  provides: { ingressClass: "traefik" },
  layer: "base",
  choice: "ingress",
  description:
    "Ingress controller: a DaemonSet on host ports 80/443 of the ingress nodes, behind the load balancer (Oracle's NLB, or MetalLB/your own on existing hosts)",
  helm: { chart: "traefik", repo: "https://traefik.github.io/charts", version: "41.3.0" },
  namespace: "ingress",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { traefik: { resources: res(100, 128, 1000, 256), replicas: "ingressNodes" } },
  hostAccess: ["host ports 80 and 443 (values: ports.*.hostPort)"],
  values: traefikValues,
};
