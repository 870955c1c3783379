/**
 * oci-k8s: a Kubernetes cluster on Oracle Cloud's free allowance, one stack per environment.
 *
 *   Pulumi.<stack>.yaml ─► config (validated) ─► budget check
 *        ─► infra/ (Oracle Cloud: network, nodes, load balancer)
 *        ─► k8s/   (hosts ─► Cluster over SSH ─► kubernetes.Provider ─► Platform of Helm releases)
 *        ─► stack outputs
 *
 * Nothing is registered until the config, the free-tier budget and the platform's memory
 * requests have all passed.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkBudget, checkUsage, combineUsage, formatUsageTable } from "./infra/budget";
import { DATA_MOUNT_POINT, HOST_READY_MARKER } from "./infra/cloud-init";
import { loadConfig } from "./infra/config";
import { createInfrastructure, freeTierPlan } from "./infra";
import { Cluster } from "./k8s/bootstrap/cluster";
import { DISTRIBUTIONS } from "./k8s/bootstrap/distributions";
import { refuseVersionChange } from "./k8s/bootstrap/versions";
import { describeRollout, isRolling, machineOf, planRollout, PreviousCluster } from "./k8s/bootstrap/rollout";
import { Host } from "./k8s/bootstrap/types";
import { formatTaint, nodeLabels, nodeTaints } from "./k8s/labels";
import { CLUSTER_PORTS, componentPortRules } from "./k8s/ports";
import { catalogEntry, componentHostPorts, PlatformContext, provided } from "./k8s/catalog";
import { checkPlatformCapacity, formatRequestsTable, Platform, platformRequests } from "./k8s/platform";
import { reservations } from "./k8s/bootstrap/reserved";
import { NodeCounts } from "./k8s/resources";
import { StackConfig } from "./infra/config";
import { ClusterOutputs, CONTRACT_VERSION, NodeOutput, UsageOutput } from "./outputs";

export = async (): Promise<ClusterOutputs> => {
  const config = loadConfig();
  const budget = checkBudget(freeTierPlan(config), config.acceptCharges);
  if (budget.warning) pulumi.log.warn(budget.warning);
  else pulumi.log.info(`Free-tier usage (${config.tier}):\n${formatUsageTable(budget.usage)}`);
  if (config.budgetSharedWith) await checkSharedBudget(config, budget.usage);

  const components = config.components.map((name) => catalogEntry(name)!);
  const nodes = nodeCounts(config);
  const requests = platformRequests(components, nodes);
  checkPlatformCapacity(requests, allocatable(config));
  pulumi.log.info(`Platform memory requests:\n${formatRequestsTable(requests)}`);
  const rollout = planRollout(await previousCluster(config), config.distributionVersion, config.nodes);
  const firstServer = config.nodes.find((n) => n.role === "server")!;
  if (isRolling(rollout)) {
    pulumi.log.info(
      `Rolling out node by node, servers first, each drained, changed, Ready and uncordoned before the next:\n  ${describeRollout(rollout).join("\n  ")}`,
    );
  }
  if (rollout.resized.some((n) => n.name === firstServer.name)) {
    pulumi.log.warn(
      `${firstServer.name} is resized in place: Oracle reboots it without a drain (it drains itself over its own SSH connection, which the resize interrupts), and with one server the API is down until it is back.`,
    );
  }
  // The SSH jump host, the first public node when some are private: every command to a private
  // node (every drain, too) goes through it, so its own drain cannot run before its resize either.
  const jumpHostSpec = config.nodes.some((n) => n.subnet === "private")
    ? config.nodes.find((n) => n.subnet === "public")
    : undefined;
  if (jumpHostSpec && rollout.resized.some((n) => n.name === jumpHostSpec.name)) {
    pulumi.log.warn(
      `${jumpHostSpec.name} is resized in place without a drain: it is the SSH jump host every drain connects through, so Oracle reboots it first.`,
    );
  }
  // A resized instance waits for its node's drain, which the cluster creates further down.
  const drainOf = new Map(
    rollout.resized
      .filter((n) => n.name !== firstServer.name && n.name !== jumpHostSpec?.name)
      .map((n) => [n.name, deferred<pulumi.Resource>()]),
  );

  // Between nodes: the distribution's ports and the host-network ports of the enabled components.
  const nodePorts = [...CLUSTER_PORTS[config.distribution], ...componentPortRules(componentHostPorts(components))];
  const infra = createInfrastructure(config, nodePorts, (name) => drainOf.get(name)?.promise);
  const ingressIp = infra.ingress.publicIp;
  const domain = config.clusterDomain ? pulumi.output(config.clusterDomain) : pulumi.interpolate`${ingressIp}.sslip.io`;

  // Private nodes are reached through the jump host.
  const jumpHost = jumpHostSpec && infra.nodes.find((n) => n.spec === jumpHostSpec);
  const hosts: Host[] = infra.nodes.map(({ spec, node }) => ({
    name: spec.name,
    role: spec.role,
    arch: spec.arch,
    address: spec.subnet === "public" ? node.publicIp : node.privateIp,
    privateIp: node.privateIp,
    memoryGb: spec.memoryGb,
    labels: nodeLabels(spec),
    taints: nodeTaints(spec),
    machineId: node.instanceId,
    machine: machineOf(spec),
    dependsOn: [node],
    viaBastion: spec.subnet === "private",
    hostKey: node.hostPublicKey,
  }));
  const cluster = settlingDrains(
    drainOf,
    () =>
      new Cluster("cluster", {
        clusterName: config.clusterName,
        distribution: DISTRIBUTIONS[config.distribution],
        version: config.distributionVersion,
        apiEndpoint: ingressIp,
        // kubeadm's control-plane endpoint inside the VCN: the load balancer's private address.
        ...(config.distribution === "kubeadm"
          ? { internalApi: { address: infra.ingress.privateAddress, ready: infra.ingress.apiListener } }
          : {}),
        hosts,
        ssh: {
          user: infra.sshUser,
          privateKey: infra.sshPrivateKey,
          bastion: jumpHost?.node.publicIp,
          bastionHostKey: jumpHost?.node.hostPublicKey,
        },
        readyMarker: HOST_READY_MARKER,
        // The bucket keys are secret in state and travel only inside the servers' config (stdin).
        etcdBackup: config.etcdBackup ? pulumi.secret(config.etcdBackup) : undefined,
        rolling: isRolling(rollout),
        kernelHold: config.kernelHold,
      }),
  );

  const context: PlatformContext = {
    clusterName: config.clusterName,
    domain,
    ingressAddress: ingressIp,
    distribution: config.distribution,
    acmeEmail: config.acmeEmail,
    ingressClass: provided(components, "ingressClass"),
    storageClass: provided(components, "storageClass"),
    dataPath: DATA_MOUNT_POINT,
    nodes,
    diskGi: platformDiskGi(config),
    enabled: new Set(config.components),
  };
  const platform = new Platform(
    "platform",
    {
      provider: cluster.provider,
      context,
      components,
      overrides: config.componentValues,
      gitops: config.gitops,
      after: [cluster.ready],
    },
    { dependsOn: [cluster.ready] },
  );

  return {
    clusterName: config.clusterName,
    clusterDomain: domain,
    distribution: config.distribution,
    distributionVersion: config.distributionVersion,
    apiUrl: cluster.apiUrl,
    kubeconfig: cluster.kubeconfig,
    ingressPublicIp: ingressIp,
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
      labels: nodeLabels(spec),
      taints: nodeTaints(spec).map(formatTaint),
    })),
    storageClass: platform.storageClass,
    clusterIssuers: platform.clusterIssuers,
    components: components.map((c) => ({
      name: c.name,
      layer: c.layer,
      version: c.helm?.version ?? "objects",
      namespace: c.namespace,
    })),
    freeTierUsage: budget.usage,
    contractVersion: CONTRACT_VERSION,
  };
};

/**
 * Reads this stack's own last outputs: a running cluster takes one minor version up at a time,
 * never a downgrade or another distribution. Nothing is changed when the step is refused.
 * Returns what is running, or undefined for a new stack.
 */
async function previousCluster(config: StackConfig): Promise<PreviousCluster | undefined> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const ref = new pulumi.StackReference(`${self}-previous`, { name: self });
  const [distribution, version, nodes] = await Promise.all([
    ref.getOutputDetails("distribution"),
    ref.getOutputDetails("distributionVersion"),
    ref.getOutputDetails("nodes"),
  ]);
  if (typeof distribution.value !== "string" || typeof version.value !== "string") return undefined; // a new stack
  const refusal = refuseVersionChange({
    distribution: config.distribution,
    from: { distribution: distribution.value, version: version.value },
    to: config.distributionVersion,
  });
  if (refusal) throw new Error(`${refusal}\nNothing was changed.`);
  return { version: version.value, nodes: Array.isArray(nodes.value) ? (nodes.value as NodeOutput[]) : [] };
}

/** Builds the cluster and hands each waiting instance its node's drain (or an error, never a hang). */
function settlingDrains(drainOf: Map<string, ReturnType<typeof deferred<pulumi.Resource>>>, build: () => Cluster): Cluster {
  let cluster: Cluster | undefined;
  try {
    cluster = build();
    return cluster;
  } finally {
    for (const [name, drain] of drainOf) drain.settle(cluster?.drains.get(name));
  }
}

/** A promise settled from outside: with a value, or rejected when there is none. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return {
    promise,
    settle: (value: T | undefined) => (value === undefined ? reject(new Error("the cluster was not built")) : resolve(value)),
  };
}

/** Another stack of the same tenancy: both together must fit this stack's allowance. */
async function checkSharedBudget(config: StackConfig, own: ReturnType<typeof checkBudget>["usage"]): Promise<void> {
  const name = config.budgetSharedWith!;
  const details = await new pulumi.StackReference(name, { name }).getOutputDetails("freeTierUsage");
  const other = (details.value ?? details.secretValue) as UsageOutput[] | undefined;
  if (!other)
    throw new Error(
      `budgetSharedWith: stack ${name} exports no freeTierUsage; run pulumi up there first, or clear budgetSharedWith`,
    );
  try {
    const shared = checkUsage(config.tier, combineUsage(config.tier, own, other), config.acceptCharges);
    pulumi.log.info(`Free-tier usage together with ${name}:\n${formatUsageTable(shared.usage)}`);
    if (shared.warning) pulumi.log.warn(shared.warning);
  } catch (error) {
    throw new Error(
      `Together with stack ${name} (budgetSharedWith), this tenancy would exceed its allowance.\n${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Nodes that take pods: an etcd-only member takes none. */
function nodeCounts(config: StackConfig): NodeCounts {
  const nodes = config.nodes.filter((n) => n.role !== "etcd");
  return {
    all: nodes.length,
    a1: nodes.filter((n) => !n.micro).length,
    ingress: nodes.filter((n) => n.ingress).length,
    micro: nodes.filter((n) => n.micro).length,
    withDataVolume: nodes.filter((n) => n.dataVolumeGb !== undefined).length,
  };
}

/** Memory pods may request: A1 nodes together, and each micro node, after kubelet reservations. */
function allocatable(config: StackConfig) {
  const a1 = config.nodes.filter((n) => !n.micro && n.role !== "etcd");
  return {
    a1Mi: a1.reduce((sum, n) => sum + reservations(n.memoryGb, n.role).allocatableMiB, 0),
    microMiPerNode: reservations(1).allocatableMiB,
  };
}

/** What the platform's volumes may take of one node's disk: the smallest data volume, or the boot volume less 30 GB for the OS and images. */
function platformDiskGi(config: StackConfig): number {
  const data = config.nodes.flatMap((n) => (n.dataVolumeGb !== undefined ? [n.dataVolumeGb] : []));
  if (data.length > 0) return Math.min(...data);
  return Math.max(10, Math.min(...config.nodes.filter((n) => !n.micro).map((n) => n.bootVolumeGb)) - 30);
}
