/** Values of Dex: the OIDC provider at dex.<domain>. */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../context";
import type { Workload } from "../resources";
import { PRODUCTION_ISSUER } from "./shared";
import { dexIssuer } from "./sso";

export function dexValues(ctx: PlatformContext, w: Readonly<Record<string, Workload>>) {
  const host = pulumi.interpolate`dex.${ctx.domain}`;
  return {
    resources: w.dex.resources,
    config: {
      issuer: dexIssuer(ctx),
      // Dex keeps its state in Kubernetes objects: nothing else to run.
      storage: { type: "kubernetes", config: { inCluster: true } },
      oauth2: { skipApprovalScreen: true },
      staticClients: ctx.sso
        ? [
            {
              id: "argo-cd",
              name: "Argo CD",
              secret: ctx.sso.argocd,
              redirectURIs: [pulumi.interpolate`https://argocd.${ctx.domain}/auth/callback`],
            },
            {
              id: "grafana",
              name: "Grafana",
              secret: ctx.sso.grafana,
              redirectURIs: [pulumi.interpolate`https://grafana.${ctx.domain}/login/generic_oauth`],
            },
          ]
        : [],
    },
    ingress: {
      enabled: true,
      className: ctx.ingressClass,
      annotations: { "cert-manager.io/cluster-issuer": PRODUCTION_ISSUER },
      hosts: [{ host, paths: [{ path: "/", pathType: "Prefix" }] }],
      tls: [{ secretName: "dex-tls", hosts: [host] }],
    },
  };
}
