/**
 * What the Oracle Cloud layer is given: plain values, no Kubernetes and no stack config. The
 * configuration (config/) resolves into these shapes; the entry hands them over.
 */
import { Tier } from "./allowance";
import { Arch } from "./shapes";

/** A node's part in the cluster, as far as the network cares: which security groups, which backends. */
export type InfraRole = "server" | "agent" | "etcd";

/** One instance to create, every default resolved. */
export interface InfraNode {
  readonly name: string;
  readonly role: InfraRole;
  readonly shape: string;
  readonly arch: Arch;
  readonly ocpus: number;
  readonly memoryGb: number;
  readonly bootVolumeGb: number;
  readonly dataVolumeGb?: number;
  readonly availabilityDomain?: number | string;
  readonly imageId?: string;
  readonly subnet: "public" | "private";
  /** Receives ports 80/443 from the ingress load balancer. */
  readonly ingress: boolean;
  /** A fixed-size micro shape (no shape config). */
  readonly micro: boolean;
}

/** Everything createInfrastructure builds from. */
export interface InfraSpec {
  readonly stack: string;
  readonly clusterName: string;
  readonly compartmentId: string;
  readonly tier: Tier;
  readonly adminCidrs: readonly string[];
  readonly vcnCidr: string;
  readonly publicSubnetCidr: string;
  readonly privateSubnetCidr: string;
  readonly natGateway: boolean;
  readonly availabilityDomains: readonly number[];
  readonly ubuntuVersion: string;
  readonly sshPublicKey?: string;
  readonly sshPrivateKey?: string;
  readonly nodes: readonly InfraNode[];
}
