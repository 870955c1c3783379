/**
 * oci-k8s: a Kubernetes cluster on Oracle Cloud's free allowance, or on machines you already
 * have, one stack per environment.
 *
 *   config/ ─► checks (free tier, platform capacity) ─► machines: infra/ (Oracle Cloud) or
 *     hosts/ (existing machines) ─► k8s/bootstrap (Cluster over SSH) ─► k8s/platform ─► outputs
 *
 * Nothing is registered until the config, the free-tier budget and the platform's memory
 * requests have all passed. stack/ holds the wiring between the layers for one stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config";
import { Cluster } from "./k8s/bootstrap/cluster";
import { DISTRIBUTIONS } from "./k8s/bootstrap/distributions";
import { provided } from "./k8s/platform/catalog";
import { Platform } from "./k8s/platform/platform";
import { DATA_MOUNT_POINT, HOST_READY_MARKER } from "./node-prep";
import { ClusterOutputs } from "./outputs";
import { EXISTING_HOSTS } from "./stack/existing";
import { ORACLE_CLOUD } from "./stack/oracle";
import { stackOutputs } from "./stack/outputs";
import { planPlatform } from "./stack/platform-plan";

export = async (): Promise<ClusterOutputs> => {
  const config = loadConfig();
  const provider = config.hosts ? EXISTING_HOSTS : ORACLE_CLOUD;
  const usage = await provider.check(config);
  const { components, nodes, diskGi } = planPlatform(config, provider.capacity(config));
  const machines = await provider.build(config, components, usage);
  const domain = config.clusterDomain
    ? pulumi.output(config.clusterDomain)
    : pulumi.interpolate`${machines.ingressAddress}.sslip.io`;

  const cluster = new Cluster("cluster", {
    clusterName: config.clusterName,
    distribution: DISTRIBUTIONS[config.distribution],
    version: config.distributionVersion,
    apiEndpoint: machines.apiEndpoint,
    internalApi: machines.internalApi,
    apiVip: machines.apiVip,
    registrationAddress: machines.registrationAddress,
    nodeNetworks: machines.nodeNetworks,
    hosts: machines.hosts,
    ssh: machines.ssh,
    readyMarker: HOST_READY_MARKER,
    // The bucket keys are secret in state and travel only inside the servers' config (stdin).
    etcdBackup: config.etcdBackup ? pulumi.secret(config.etcdBackup) : undefined,
    recoveryBundles: Boolean(config.etcdBackup?.s3),
    restored: config.restored,
    rolling: machines.rolling,
    kernelHold: config.kernelHold,
    containerHosts: config.containerHosts,
    rolloutForce: config.rolloutForce,
    rolloutDrainTimeout: config.rolloutDrainTimeout,
    artifacts: config.artifacts,
    drainGate: machines.drainGate,
    uninstallFirstServer: machines.uninstallEverywhere,
  });

  const platform = new Platform(
    "platform",
    {
      provider: cluster.provider,
      context: {
        clusterName: config.clusterName,
        domain,
        ingressAddress: machines.ingressAddress,
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
      installAfter: [cluster.allNodesReady],
    },
    { dependsOn: [cluster.allNodesReady] },
  );

  return stackOutputs({ config, machines, domain, cluster, platform, components });
};
