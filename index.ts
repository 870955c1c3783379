/**
 * oci-k8s: a Kubernetes cluster on Oracle Cloud's free allowance, one stack per environment.
 *
 *   config/ ─► free-tier and platform checks ─► infra/ (Oracle Cloud) ─► hosts
 *     ─► k8s/bootstrap (Cluster over SSH) ─► k8s/platform (Helm releases) ─► outputs
 *
 * Nothing is registered until the config, the free-tier budget and the platform's memory
 * requests have all passed. stack/ holds the wiring between the layers for one stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config";
import { createInfrastructure } from "./infra";
import { Cluster } from "./k8s/bootstrap/cluster";
import { DISTRIBUTIONS } from "./k8s/bootstrap/distributions";
import { provided } from "./k8s/platform/catalog";
import { Platform } from "./k8s/platform/platform";
import { ClusterOutputs } from "./outputs";
import { checkFreeTier } from "./stack/free-tier";
import { clusterNeeds, DATA_MOUNT_POINT, HOST_READY_MARKER, ociHosts } from "./stack/oci";
import { stackOutputs } from "./stack/outputs";
import { planPlatform } from "./stack/platform-plan";
import { planUpdate } from "./stack/update";

export = async (): Promise<ClusterOutputs> => {
  const config = loadConfig();
  const usage = await checkFreeTier(config);
  const { components, nodes, diskGi } = planPlatform(config);
  const update = await planUpdate(config);

  const infra = createInfrastructure(config, clusterNeeds(config, components, update.drainGate));
  const ingressIp = infra.ingress.publicIp;
  const domain = config.clusterDomain ? pulumi.output(config.clusterDomain) : pulumi.interpolate`${ingressIp}.sslip.io`;
  const { hosts, ssh } = ociHosts(config, infra);

  const cluster = new Cluster("cluster", {
    clusterName: config.clusterName,
    distribution: DISTRIBUTIONS[config.distribution],
    version: config.distributionVersion,
    apiEndpoint: ingressIp,
    ...(config.distribution === "kubeadm"
      ? { internalApi: { address: infra.ingress.privateAddress, ready: infra.ingress.apiListener } }
      : {}),
    hosts,
    ssh,
    readyMarker: HOST_READY_MARKER,
    // The bucket keys are secret in state and travel only inside the servers' config (stdin).
    etcdBackup: config.etcdBackup ? pulumi.secret(config.etcdBackup) : undefined,
    rolling: update.rolling,
    kernelHold: config.kernelHold,
    drainGate: update.drainGate,
  });

  const platform = new Platform(
    "platform",
    {
      provider: cluster.provider,
      context: {
        clusterName: config.clusterName,
        domain,
        ingressAddress: ingressIp,
        distribution: config.distribution,
        acmeEmail: config.acmeEmail,
        ingressClass: provided(components, "ingressClass"),
        storageClass: provided(components, "storageClass"),
        dataPath: DATA_MOUNT_POINT,
        nodes,
        diskGi,
        enabled: new Set(config.components),
      },
      components,
      overrides: config.componentValues,
      gitops: config.gitops,
      after: [cluster.allNodesReady],
    },
    { dependsOn: [cluster.allNodesReady] },
  );

  return stackOutputs({ config, usage, infra, domain, cluster, platform, components });
};
