/**
 * The component catalog: the one list of platform components, each declared in its own file
 * under components/ (chart or objects, namespace, layer, needs, workloads, values). Base
 * components first, then the addons a stack turns on by name.
 */
import { CatalogEntry, Choice } from "./component";
import { TRAEFIK } from "./components/traefik";
import { INGRESS_NGINX } from "./components/ingress-nginx";
import { CERT_MANAGER } from "./components/cert-manager";
import { SEALED_SECRETS } from "./components/sealed-secrets";
import { METRICS_SERVER } from "./components/metrics-server";
import { LOCAL_PATH } from "./components/local-path";
import { LONGHORN } from "./components/longhorn";
import { KUBE_PROMETHEUS_STACK } from "./components/kube-prometheus-stack";
import { VICTORIA_METRICS_K8S_STACK } from "./components/victoria-metrics-k8s-stack";
import { LOKI } from "./components/loki";
import { ALLOY } from "./components/alloy";
import { ARGO_CD } from "./components/argo-cd";
import { EXTERNAL_DNS } from "./components/external-dns";
import { EXTERNAL_SECRETS } from "./components/external-secrets";
import { CLOUDNATIVE_PG } from "./components/cloudnative-pg";
import { VICTORIA_METRICS_SINGLE } from "./components/victoria-metrics-single";
import { PROMETHEUS_ADAPTER } from "./components/prometheus-adapter";
import { VAULT } from "./components/vault";
import { DEX } from "./components/dex";
import { GHA_RUNNER_SCALE_SET_CONTROLLER } from "./components/gha-runner-scale-set-controller";
import { GHA_RUNNER_SCALE_SET } from "./components/gha-runner-scale-set";
import { KURED } from "./components/kured";
import { MACKEREL_CONTAINER_AGENT } from "./components/mackerel-container-agent";
import { METALLB } from "./components/metallb";
import { ROOK_CEPH } from "./components/rook-ceph";

export type { CatalogEntry, Choice, HelmSource, HostPort, Layer } from "./component";
export { componentHostPorts, provided } from "./component";

export const CATALOG: readonly CatalogEntry[] = [
  TRAEFIK,
  INGRESS_NGINX,
  CERT_MANAGER,
  SEALED_SECRETS,
  METRICS_SERVER,
  LOCAL_PATH,
  LONGHORN,
  KUBE_PROMETHEUS_STACK,
  VICTORIA_METRICS_K8S_STACK,
  LOKI,
  ALLOY,
  ARGO_CD,
  EXTERNAL_DNS,
  EXTERNAL_SECRETS,
  CLOUDNATIVE_PG,
  VICTORIA_METRICS_SINGLE,
  PROMETHEUS_ADAPTER,
  VAULT,
  DEX,
  GHA_RUNNER_SCALE_SET_CONTROLLER,
  GHA_RUNNER_SCALE_SET,
  KURED,
  MACKEREL_CONTAINER_AGENT,
  ROOK_CEPH,
  METALLB,
];

export function catalogEntry(name: string): CatalogEntry | undefined {
  return CATALOG.find((e) => e.name === name);
}

/** The default pick of each choice. */
export const DEFAULT_CHOICES: Readonly<Record<Choice, string>> = {
  ingress: "traefik",
  storage: "local-path",
  monitoring: "kube-prometheus-stack",
};

export const ADDON_NAMES = CATALOG.filter((e) => e.layer === "addon").map((e) => e.name);
export const choicesOf = (choice: Choice) => CATALOG.filter((e) => e.choice === choice).map((e) => e.name);
