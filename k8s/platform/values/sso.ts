/** Single sign-on through Dex: what Argo CD and Grafana need to use it. */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../context";

export const dexIssuer = (ctx: PlatformContext) => pulumi.interpolate`https://dex.${ctx.domain}`;

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
