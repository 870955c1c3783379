/** The stack's outputs, in the shape of the contract other stacks read (outputs.ts). */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Cluster } from "../k8s/bootstrap/cluster";
import type { CatalogEntry } from "../k8s/platform/catalog";
import type { Platform } from "../k8s/platform/platform";
import { ClusterOutputs, CONTRACT_VERSION } from "../outputs";
import type { Machines } from "./machines";

export interface Built {
  readonly config: StackConfig;
  readonly machines: Machines;
  readonly domain: pulumi.Input<string>;
  readonly cluster: Cluster;
  readonly platform: Platform;
  readonly components: readonly CatalogEntry[];
}

/** The cluster's outputs; those only Oracle Cloud has come from the machines, and are absent on existing hosts. */
export function stackOutputs({ config, machines, domain, cluster, platform, components }: Built): ClusterOutputs {
  return {
    clusterName: config.clusterName,
    clusterDomain: domain,
    distribution: config.distribution,
    distributionVersion: config.distributionVersion,
    apiUrl: cluster.apiUrl,
    kubeconfig: cluster.kubeconfig,
    ...machines.outputs,
    storageClass: platform.storageClass,
    clusterIssuers: platform.clusterIssuers,
    urls: clusterUrls(cluster.apiUrl, domain, components),
    grafanaAdminPassword: platform.adminPasswords.grafana,
    argoCdAdminPassword: platform.adminPasswords.argocd,
    components: components.map((c) => ({
      name: c.name,
      layer: c.layer,
      version: c.helm?.version ?? "objects",
      namespace: c.namespace,
    })),
    contractVersion: CONTRACT_VERSION,
  };
}

/** The API, then every UI the enabled components expose, at https://<host>.<clusterDomain>. */
function clusterUrls(apiUrl: pulumi.Input<string>, domain: pulumi.Input<string>, components: readonly CatalogEntry[]) {
  const hosts = [...new Set(components.flatMap((c) => (c.exposes ?? []).map((e) => e.host)))];
  return pulumi.all([apiUrl, domain]).apply(([api, d]) => ({
    kubernetesApi: api,
    ...Object.fromEntries(hosts.map((host) => [host, `https://${host}.${d}`])),
  }));
}
