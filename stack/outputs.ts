/** The stack's outputs, in the shape of the contract other stacks read (outputs.ts). */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Infrastructure } from "../infra";
import type { UsageLine } from "../infra/budget";
import type { Cluster } from "../k8s/bootstrap/cluster";
import { formatTaint } from "../k8s/labels";
import type { CatalogEntry } from "../k8s/platform/catalog";
import type { Platform } from "../k8s/platform/platform";
import { ClusterOutputs, CONTRACT_VERSION } from "../outputs";
import { ociNodeLabels, ociNodeTaints } from "./oci";

export interface Built {
  readonly config: StackConfig;
  readonly usage: UsageLine[];
  readonly infra: Infrastructure;
  readonly domain: pulumi.Input<string>;
  readonly cluster: Cluster;
  readonly platform: Platform;
  readonly components: readonly CatalogEntry[];
}

export function stackOutputs({ config, usage, infra, domain, cluster, platform, components }: Built): ClusterOutputs {
  return {
    clusterName: config.clusterName,
    clusterDomain: domain,
    distribution: config.distribution,
    distributionVersion: config.distributionVersion,
    apiUrl: cluster.apiUrl,
    kubeconfig: cluster.kubeconfig,
    ingressPublicIp: infra.ingress.publicIp,
    vcnId: infra.network.vcnId,
    subnetIds: { public: infra.network.publicSubnetId, private: infra.network.privateSubnetId },
    nsgIds: infra.network.nsgIds,
    sshUser: infra.sshUser,
    sshPublicKey: infra.sshPublicKey,
    ...(infra.sshKeyGenerated && infra.sshPrivateKey ? { sshPrivateKey: infra.sshPrivateKey } : {}),
    nodes: infra.nodes.map(({ spec, node }) => ({
      name: spec.name,
      role: spec.role,
      arch: spec.arch,
      shape: spec.shape,
      ocpus: spec.ocpus,
      memoryGb: spec.memoryGb,
      availabilityDomain: node.availabilityDomain,
      privateIp: node.privateIp,
      publicIp: node.publicIp,
      labels: ociNodeLabels(spec),
      taints: ociNodeTaints(spec).map(formatTaint),
    })),
    storageClass: platform.storageClass,
    clusterIssuers: platform.clusterIssuers,
    components: components.map((c) => ({
      name: c.name,
      layer: c.layer,
      version: c.helm?.version ?? "objects",
      namespace: c.namespace,
    })),
    freeTierUsage: usage,
    contractVersion: CONTRACT_VERSION,
  };
}
