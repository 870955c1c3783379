/** Names the platform's components share. */
import * as pulumi from "@pulumi/pulumi";

/** ClusterIssuers the platform creates (k8s/platform.ts). */
export const STAGING_ISSUER = "letsencrypt-staging";
export const PRODUCTION_ISSUER = "letsencrypt-production";

/** Secret of the ingress controller's default certificate (in the ingress namespace). */
export const DEFAULT_CERT_SECRET = "ingress-default-tls";

/** Loki's push endpoint (release "loki" in namespace "logging", single binary). */
export const LOKI_URL = "http://loki.logging.svc.cluster.local:3100";

/** An Ingress with a Let's Encrypt certificate for `<host>.<domain>`, in the chart-values shape most charts share. */
export function tlsIngress(host: string, domain: pulumi.Input<string>, ingressClass: string) {
  const fqdn = pulumi.interpolate`${host}.${domain}`;
  return {
    enabled: true,
    ingressClassName: ingressClass,
    annotations: { "cert-manager.io/cluster-issuer": PRODUCTION_ISSUER },
    hosts: [fqdn],
    tls: [{ secretName: `${host}-tls`, hosts: [fqdn] }],
  };
}

/** The size of a volume claim as a share of the storage the platform may use on a data volume. */
export function shareOfDisk(diskGi: number, share: number, minimumGi = 5): number {
  return Math.max(minimumGi, Math.floor(diskGi * share));
}

/** Host ports cannot surge: a node frees 80/443 before the new pod takes them. */
export const HOST_PORT_ROLLOUT = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
