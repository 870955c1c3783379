/** Values of Traefik: a DaemonSet on host ports 80/443 of the ingress nodes, behind the load balancer. */
import { INGRESS_NODE_SELECTOR } from "../../labels";
import type { PlatformContext } from "../context";
import type { Workload } from "../resources";
import { DEFAULT_CERT_SECRET, HOST_PORT_ROLLOUT } from "./shared";

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
