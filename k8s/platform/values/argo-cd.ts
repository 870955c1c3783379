/** Values of Argo CD: served at argocd.<domain> through the ingress, TLS from cert-manager. */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformContext } from "../context";
import { mergeValues } from "../merge";
import { res, Resources, Workload } from "../resources";
import { PRODUCTION_ISSUER } from "./shared";
import { argoCdSso } from "./sso";

/** Argo CD's own image at the chart's appVersion: the plugin sidecar runs Argo CD's cmp-server from it. */
export const ARGOCD_IMAGE = "quay.io/argoproj/argocd:v3.4.4";
// renovate: datasource=github-releases depName=argoproj-labs/argocd-vault-plugin extractVersion=^v(?<version>.*)$
export const AVP_VERSION = "1.18.1";
/** Requests and limits of the plugin sidecar (counted under the vault addon). */
export const AVP_RESOURCES = res(10, 64, 500, 256);
/** Downloads the plugin binary in an init container (verified against the release's checksums). */
export const AVP_DOWNLOADER_IMAGE = "docker.io/library/alpine:3.22";
/** Vault's service inside the cluster (release "vault", namespace "vault"). */
export const VAULT_ADDR = "http://vault.vault.svc.cluster.local:8200";
/** The Vault Kubernetes-auth role the plugin logs in with (created once in Vault; see README). */
export const AVP_VAULT_ROLE = "argocd-repo-server";

const AVP_DOWNLOAD = `set -eu
case "$(uname -m)" in aarch64) arch=arm64 ;; x86_64) arch=amd64 ;; *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;; esac
base=https://github.com/argoproj-labs/argocd-vault-plugin/releases/download/v${AVP_VERSION}
file=argocd-vault-plugin_${AVP_VERSION}_linux_$arch
cd /custom-tools
wget -q "$base/$file" "$base/argocd-vault-plugin_${AVP_VERSION}_checksums.txt"
grep " $file$" argocd-vault-plugin_${AVP_VERSION}_checksums.txt | sha256sum -c -
mv "$file" argocd-vault-plugin
chmod +x argocd-vault-plugin
`;

/**
 * The argocd-vault-plugin as a config management plugin: manifests with <path:...> placeholders
 * get their secrets from Vault at sync time, so no secret sits in git.
 */
export function vaultPluginValues(resources: Resources) {
  return {
    configs: {
      cmp: {
        create: true,
        plugins: {
          avp: {
            allowConcurrency: true,
            // Only directories whose manifests hold Vault placeholders go through the plugin.
            discover: {
              find: {
                command: ["sh", "-c", "find . -name '*.yaml' | xargs -I {} grep -l '<path:\\|avp.kubernetes.io' {} | grep ."],
              },
            },
            generate: { command: ["argocd-vault-plugin"], args: ["generate", "./"] },
            lockRepo: false,
          },
        },
      },
    },
    repoServer: {
      initContainers: [
        {
          name: "download-avp",
          image: AVP_DOWNLOADER_IMAGE,
          command: ["sh", "-c", AVP_DOWNLOAD],
          volumeMounts: [{ name: "custom-tools", mountPath: "/custom-tools" }],
          resources,
        },
      ],
      extraContainers: [
        {
          name: "avp",
          image: ARGOCD_IMAGE,
          command: ["/var/run/argocd/argocd-cmp-server"],
          securityContext: { runAsNonRoot: true, runAsUser: 999 },
          env: [
            { name: "VAULT_ADDR", value: VAULT_ADDR },
            { name: "AVP_TYPE", value: "vault" },
            { name: "AVP_AUTH_TYPE", value: "k8s" },
            { name: "AVP_K8S_ROLE", value: AVP_VAULT_ROLE },
          ],
          resources,
          volumeMounts: [
            { name: "var-files", mountPath: "/var/run/argocd" },
            { name: "plugins", mountPath: "/home/argocd/cmp-server/plugins" },
            { name: "cmp-tmp", mountPath: "/tmp" },
            { name: "argocd-cmp-cm", mountPath: "/home/argocd/cmp-server/config/plugin.yaml", subPath: "avp.yaml" },
            { name: "custom-tools", mountPath: "/usr/local/bin/argocd-vault-plugin", subPath: "argocd-vault-plugin" },
          ],
        },
      ],
      volumes: [
        { name: "argocd-cmp-cm", configMap: { name: "argocd-cmp-cm" } },
        { name: "custom-tools", emptyDir: {} },
        { name: "cmp-tmp", emptyDir: {} },
      ],
    },
  };
}

export function argoCdValues(ctx: PlatformContext, w: Readonly<Record<string, Workload>>) {
  const values = {
    global: { domain: pulumi.interpolate`argocd.${ctx.domain}` },
    // TLS ends at the ingress controller; the server behind it speaks plain HTTP.
    configs: {
      params: { "server.insecure": true },
      // The admin password is the program's (random provider; bcrypt hash here, the password in
      // the argoCdAdminPassword output), so Argo CD makes no argocd-initial-admin-secret of its own.
      secret: { argocdServerAdminPassword: ctx.admin?.argocdPasswordHash },
    },
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
    // A cache: evict the least recently used keys before the container's memory limit.
    redis: { resources: w.redis.resources, extraArgs: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] },
    applicationSet: { resources: w.applicationSet.resources },
    notifications: { resources: w.notifications.resources },
    // Argo CD's bundled Dex stays off; the dex addon is a standalone OIDC provider.
    dex: { enabled: false },
  };
  const withSso = mergeValues(values, argoCdSso(ctx));
  return ctx.enabled.has("vault") ? mergeValues(withSso, vaultPluginValues(AVP_RESOURCES)) : withSso;
}
