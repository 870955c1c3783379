/** Values of the ingress controllers: a DaemonSet on host ports 80/443 of the ingress nodes. */
import type { PlatformContext } from "../catalog";
import { INGRESS_NODE_SELECTOR } from "../labels";
import { Workload } from "../resources";
import { DEFAULT_CERT_SECRET } from "./shared";

// Host ports cannot surge: a node frees 80/443 before the new pod takes them.
const HOST_PORT_ROLLOUT = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };

export function traefikValues(ctx: PlatformContext, w: Readonly<Record<string, Workload>>) {
  return {
    deployment: { kind: "DaemonSet" },
    // The NLB forwards 80/443 to these host ports and keeps the client's address, so Traefik sees
    // the real source IP without proxy protocol or X-Forwarded-For trust. Plain HTTP is
    // redirected to HTTPS, permanently. HTTP-01 challenges still pass: Let's Encrypt follows the
    // redirect to 443 without validating the certificate (its documented rule for HTTP-01), and
    // cert-manager's solver Ingress has routers on every entry point, websecure included;
    // cert-manager's own reachability check follows redirects with verification off likewise.
    ports: {
      web: { hostPort: 80, http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } } },
      websecure: { hostPort: 443 },
    },
    // No Service of type LoadBalancer: Oracle would create (and bill) another load balancer.
    service: { enabled: false },
    // With no Service to copy it from, every Ingress's status gets the load balancer's address,
    // which external-dns and Argo CD's health checks read.
    providers: { kubernetesIngress: { ingressEndpoint: { ip: ctx.ingressAddress } } },
    nodeSelector: INGRESS_NODE_SELECTOR,
    updateStrategy: HOST_PORT_ROLLOUT,
    resources: w.traefik.resources,
    ingressClass: { enabled: true, isDefaultClass: true, name: ctx.ingressClass },
    // Served for TLS requests that match no Ingress; issued by cert-manager (k8s/platform.ts).
    tlsStore: { default: { defaultCertificate: { secretName: DEFAULT_CERT_SECRET } } },
  };
}

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
