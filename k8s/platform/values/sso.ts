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

/** The Secret (in Grafana's namespace) that holds Grafana's OIDC client secret, and its key: an environment variable of Grafana's pod. */
export const GRAFANA_SSO_SECRET = "grafana-sso";
export const GRAFANA_SSO_ENV = "GRAFANA_SSO_CLIENT_SECRET";

/**
 * Grafana's generic OAuth login through Dex (the grafana chart's grafana.ini). The client secret
 * is not in the values: the grafana chart refuses it there (templates/_helpers.tpl,
 * grafana.assertNoLeakedSecrets: "Sensitive key ... should not be defined explicitly in values"),
 * so it sits in a Secret made into environment variables (envFromSecret) and grafana.ini expands it.
 */
export function grafanaSso(ctx: PlatformContext) {
  if (!ctx.sso) return {};
  const issuer = dexIssuer(ctx);
  return {
    envFromSecret: GRAFANA_SSO_SECRET,
    "grafana.ini": {
      server: { root_url: pulumi.interpolate`https://grafana.${ctx.domain}` },
      "auth.generic_oauth": {
        enabled: true,
        name: "Dex",
        client_id: "grafana",
        client_secret: `$__env{${GRAFANA_SSO_ENV}}`,
        scopes: "openid profile email groups",
        auth_url: pulumi.interpolate`${issuer}/auth`,
        token_url: pulumi.interpolate`${issuer}/token`,
        api_url: pulumi.interpolate`${issuer}/userinfo`,
      },
    },
  };
}

/** The Secrets Grafana's values name: its admin login (admin.existingSecret) and, with an OIDC provider, its client secret. */
export function grafanaSecrets(ctx: PlatformContext): Record<string, Record<string, pulumi.Input<string>>> {
  return {
    ...(ctx.admin
      ? { [GRAFANA_ADMIN_SECRET]: { "admin-user": GRAFANA_ADMIN_USER, "admin-password": ctx.admin.grafanaPassword } }
      : {}),
    ...(ctx.sso ? { [GRAFANA_SSO_SECRET]: { [GRAFANA_SSO_ENV]: ctx.sso.grafana } } : {}),
  };
}

/** Grafana's admin login: a Secret the program makes (password from the random provider), never the chart's own. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const GRAFANA_ADMIN_USER = "admin";

/** The grafana chart's values for the admin login: read from GRAFANA_ADMIN_SECRET (its keys are the chart's defaults, named anyway). */
export function grafanaAdmin() {
  return { admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" } };
}
