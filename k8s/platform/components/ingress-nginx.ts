/** The ingress-nginx component: Ingress controller (retired upstream in 2026; for those who need it), same host-port layout. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";
import { ingressNginxValues } from "../values/ingress-nginx";

export const INGRESS_NGINX: CatalogEntry = {
  name: "ingress-nginx",
  provides: { ingressClass: "nginx" },
  layer: "base",
  choice: "ingress",
  description: "Ingress controller (retired upstream in 2026; for those who need it), same host-port layout",
  helm: { chart: "ingress-nginx", repo: "https://kubernetes.github.io/ingress-nginx", version: "4.15.1" },
  namespace: "ingress",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { controller: { resources: res(100, 128, 1000, 384), replicas: "ingressNodes" } },
  hostAccess: ["host ports 80 and 443 (values: controller.hostPort)"],
  values: ingressNginxValues,
};
