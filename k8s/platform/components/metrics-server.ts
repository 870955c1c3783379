/** The metrics-server component: Resource metrics for kubectl top and autoscaling. */
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

export const METRICS_SERVER: CatalogEntry = {
  name: "metrics-server",
  layer: "base",
  description: "Resource metrics for kubectl top and autoscaling",
  helm: { chart: "metrics-server", repo: "https://kubernetes-sigs.github.io/metrics-server/", version: "3.13.1" },
  namespace: "kube-system",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  workloads: { server: { resources: res(50, 64, 500, 128), replicas: 1 } },
  values: (ctx, w) => ({
    resources: w.server.resources,
    // kubeadm's kubelets serve self-signed certificates (k3s and RKE2 sign theirs with the cluster CA).
    args: ctx.distribution === "kubeadm" ? ["--kubelet-insecure-tls"] : [],
  }),
};
