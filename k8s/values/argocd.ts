/** Values of Argo CD: served at argocd.<domain> through the ingress, TLS from cert-manager. */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../catalog";
import { Workload } from "../resources";
import { PRODUCTION_ISSUER } from "./shared";

export function argoCdValues(ctx: PlatformContext, w: Readonly<Record<string, Workload>>) {
  return {
    global: { domain: pulumi.interpolate`argocd.${ctx.domain}` },
    // TLS ends at the ingress controller; the server behind it speaks plain HTTP.
    configs: { params: { "server.insecure": true } },
    server: {
      resources: w.server.resources,
      ingress: {
        enabled: true,
        ingressClassName: ctx.ingressClass,
        annotations: { "cert-manager.io/cluster-issuer": PRODUCTION_ISSUER },
        tls: true,
      },
    },
    controller: { resources: w.controller.resources },
    repoServer: { resources: w.repoServer.resources },
    redis: { resources: w.redis.resources },
    applicationSet: { resources: w.applicationSet.resources },
    notifications: { resources: w.notifications.resources },
    // Logins go through Argo CD's own accounts until an SSO provider is wired in.
    dex: { enabled: false },
  };
}
