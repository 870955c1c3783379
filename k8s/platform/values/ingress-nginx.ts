/** Values of ingress-nginx (for those who need it): the same host-port layout as Traefik. */
import type { PlatformContext } from "../context";
import type { Workload } from "../resources";
import { DEFAULT_CERT_SECRET } from "./shared";
import { INGRESS_NODE_SELECTOR } from "../../labels";

export function ingressNginxValues(ctx: PlatformContext, w: Readonly<Record<string, Workload>>) {
  return {
    controller: {
      kind: "DaemonSet",
      hostPort: { enabled: true, ports: { http: 80, https: 443 } },
      service: { enabled: false },
      nodeSelector: { "kubernetes.io/os": "linux", ...INGRESS_NODE_SELECTOR },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      resources: w.controller.resources,
      ingressClassResource: { name: ctx.ingressClass, default: true },
      // No Service to publish: every Ingress's status gets the load balancer's address.
      publishService: { enabled: false },
      extraArgs: {
        "default-ssl-certificate": `ingress/${DEFAULT_CERT_SECRET}`,
        "publish-status-address": ctx.ingressAddress,
      },
      // Plain HTTP is redirected to HTTPS for every Ingress; the controller exempts
      // /.well-known/acme-challenge (its no-tls-redirect-locations default), so HTTP-01 passes.
      config: { "force-ssl-redirect": "true" },
    },
  };
}
