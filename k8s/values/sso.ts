/** Single sign-on through Dex: Dex's own values, and what Argo CD and Grafana need to use it. */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../catalog";
import { Workload } from "../resources";
import { PRODUCTION_ISSUER } from "./shared";

export const dexIssuer = (ctx: PlatformContext) => pulumi.interpolate`https://dex.${ctx.domain}`;

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

/** Argo CD logs in through Dex; the client secret sits in argocd-secret, referenced as $oidc.dex.clientSecret. */
export function argoCdSso(ctx: PlatformContext) {
  if (!ctx.sso) return {};
  return {
    configs: {
      cm: {
        "oidc.config": pulumi.interpolate`name: Dex
issuer: https://dex.${ctx.domain}
clientID: argo-cd
clientSecret: $oidc.dex.clientSecret
requestedScopes: [openid, profile, email, groups]
`,
      },
      secret: { extra: { "oidc.dex.clientSecret": ctx.sso.argocd } },
    },
  };
}

/** Grafana's generic OAuth login through Dex (the grafana chart's grafana.ini). */
export function grafanaSso(ctx: PlatformContext) {
  if (!ctx.sso) return {};
  const issuer = dexIssuer(ctx);
  return {
    "grafana.ini": {
      server: { root_url: pulumi.interpolate`https://grafana.${ctx.domain}` },
      "auth.generic_oauth": {
        enabled: true,
        name: "Dex",
        client_id: "grafana",
        client_secret: ctx.sso.grafana,
        scopes: "openid profile email groups",
        auth_url: pulumi.interpolate`${issuer}/auth`,
        token_url: pulumi.interpolate`${issuer}/token`,
        api_url: pulumi.interpolate`${issuer}/userinfo`,
      },
    },
  };
}
