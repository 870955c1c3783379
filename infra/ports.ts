/** Ports that reach the cluster, and the shape of a node-to-node port rule. */

/** A group of VNICs that shares one network security group. */
export type NodeGroup = "nodes" | "servers";

/** A port one group of nodes opens to another (the distribution's table is in k8s/ports.ts). */
export interface ClusterPort {
  readonly protocol: "tcp" | "udp";
  readonly min: number;
  readonly max: number;
  /** Who opens the connection. */
  readonly from: NodeGroup;
  /** Who listens. */
  readonly to: NodeGroup;
  readonly description: string;
}

export const SSH_PORT = 22;
export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;
