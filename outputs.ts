/**
 * The stack outputs contract: what this program exports for other stacks, and a typed helper
 * that reads it through a StackReference. index.ts is typed against ClusterOutputs, so the
 * compiler keeps the program and this contract in step.
 */
import * as pulumi from "@pulumi/pulumi";

export interface NodeOutput {
  readonly name: string;
  readonly role: "server" | "agent" | "etcd";
  readonly arch: string;
  /** Oracle Cloud only: the instance's shape, OCPUs and availability domain. */
  readonly shape?: string;
  readonly ocpus?: number;
  readonly memoryGb: number;
  readonly availabilityDomain?: string;
  readonly privateIp: string;
  /** Empty for a node in the private subnet. */
  readonly publicIp: string;
  readonly labels: Record<string, string>;
  readonly taints: string[];
}

export interface UsageOutput {
  readonly resource: string;
  readonly label: string;
  readonly unit: string;
  readonly used: number;
  readonly allowed: number;
  readonly excess: number;
  /** Monthly list price of the excess, US dollars (0 within the free allowance). */
  readonly monthlyCostUsd: number;
  /** More than the tenancy may have at all. */
  readonly overLimit: boolean;
}

export interface ComponentOutput {
  readonly name: string;
  readonly layer: "base" | "addon";
  readonly version: string;
  readonly namespace: string;
}

/** Every output of an oci-k8s stack. */
export interface ClusterOutputs {
  readonly clusterName: pulumi.Input<string>;
  /** DNS zone of ingress hostnames (`<ingress IP>.sslip.io` when the stack names none). */
  readonly clusterDomain: pulumi.Input<string>;
  readonly distribution: pulumi.Input<string>;
  readonly distributionVersion: pulumi.Input<string>;
  /** `https://<load balancer IP>:6443`. */
  readonly apiUrl: pulumi.Input<string>;
  /** Admin kubeconfig (secret). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Where web traffic arrives: the load balancer's address, or the first ingress host's. */
  readonly ingressPublicIp: pulumi.Input<string>;
  /** Oracle Cloud only: absent on a stack of existing hosts. */
  readonly vcnId?: pulumi.Input<string>;
  readonly subnetIds?: pulumi.Input<{ public: pulumi.Input<string>; private?: pulumi.Input<string> }>;
  readonly nsgIds?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly sshUser: pulumi.Input<string>;
  /** The nodes' authorized key (Oracle Cloud only: existing hosts keep their own). */
  readonly sshPublicKey?: pulumi.Input<string>;
  /** Only when the program generated the key (secret). */
  readonly sshPrivateKey?: pulumi.Input<string>;
  readonly nodes: pulumi.Input<{ readonly [K in keyof NodeOutput]: pulumi.Input<NodeOutput[K]> }[]>;
  /** The default StorageClass. */
  readonly storageClass: pulumi.Input<string>;
  /** ClusterIssuer names, staging first. */
  readonly clusterIssuers: pulumi.Input<readonly string[]>;
  readonly components: pulumi.Input<ComponentOutput[]>;
  /**
   * The cluster's URLs by name: `kubernetesApi` (the apiUrl), then each UI the enabled components
   * expose at `https://<host>.<clusterDomain>` (`argocd`, `grafana`, and `dex` with that addon).
   */
  readonly urls: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Grafana's admin password (user `admin`), made by the program (secret). */
  readonly grafanaAdminPassword: pulumi.Input<string>;
  /** Argo CD's admin password (user `admin`), made by the program (secret). */
  readonly argoCdAdminPassword: pulumi.Input<string>;
  /** Oracle Cloud only. */
  readonly freeTierUsage?: pulumi.Input<UsageOutput[]>;
  /** CONTRACT_VERSION of the program that wrote these outputs. */
  readonly contractVersion: number;
}

/** Outputs only a stack on Oracle Cloud has: read as undefined from a stack of existing hosts. */
export const ORACLE_CLOUD_ONLY = ["vcnId", "subnetIds", "nsgIds", "sshPublicKey", "freeTierUsage"] as const;
type OracleOnly = (typeof ORACLE_CLOUD_ONLY)[number];

type Resolved<T> = {
  readonly [K in keyof T]-?: K extends OracleOnly
    ? pulumi.Output<pulumi.Unwrap<NonNullable<T[K]>> | undefined>
    : pulumi.Output<pulumi.Unwrap<NonNullable<T[K]>>>;
};

/**
 * The contract's version, exported as `contractVersion`: raised whenever an output changes shape,
 * so a consumer built for one version refuses a stack that exports another instead of misreading it.
 * 2: freeTierUsage lines carry monthlyCostUsd and overLimit; nodes may have role etcd.
 * 3: urls; grafanaAdminPassword and argoCdAdminPassword (secret; added under version 2 without a raise).
 */
export const CONTRACT_VERSION = 3;

/** Every key of the contract, so the helper reads exactly them. */
export const OUTPUT_NAMES = [
  "clusterName",
  "clusterDomain",
  "distribution",
  "distributionVersion",
  "apiUrl",
  "kubeconfig",
  "ingressPublicIp",
  "vcnId",
  "subnetIds",
  "nsgIds",
  "sshUser",
  "sshPublicKey",
  "nodes",
  "storageClass",
  "clusterIssuers",
  "components",
  "urls",
  "grafanaAdminPassword",
  "argoCdAdminPassword",
  "freeTierUsage",
] as const satisfies readonly (keyof ClusterOutputs)[];

export type ClusterStackOutputs = Pick<Resolved<ClusterOutputs>, (typeof OUTPUT_NAMES)[number]>;

/**
 * Reads an oci-k8s stack's outputs with their types: `clusterStack("org/oci-k8s/dev")`.
 * Secret outputs (the kubeconfig) stay secret.
 */
export function clusterStack(name: string, opts?: pulumi.CustomResourceOptions): ClusterStackOutputs {
  const ref = new pulumi.StackReference(name, { name }, opts);
  // Every output waits for the version check, so nothing is built on outputs of another shape.
  const checked = ref.getOutput("contractVersion").apply((version) => {
    if (version !== CONTRACT_VERSION) {
      throw new Error(
        `stack ${name} exports outputs contract version ${version ?? "(none)"}, and this program reads version ${CONTRACT_VERSION}: ` +
          "run pulumi up on the cluster stack with the same oci-k8s release (or update this program's copy of outputs.ts)",
      );
    }
    return version;
  });
  return Object.fromEntries(
    OUTPUT_NAMES.map((key) => {
      const value = (ORACLE_CLOUD_ONLY as readonly string[]).includes(key) ? ref.getOutput(key) : ref.requireOutput(key);
      return [key, pulumi.all([checked, value]).apply(([, v]) => v)];
    }),
  ) as unknown as ClusterStackOutputs;
}
