import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { HTTP_PORT, HTTPS_PORT } from "./ports";

export interface LoadBalancerBackend {
  /** Node name, used as the backend's name. */
  readonly name: string;
  /** Instance OCID of the node. */
  readonly instanceId: pulumi.Input<string>;
}

export interface IngressLoadBalancerArgs {
  /** Compartment that holds the load balancer and its IP. */
  readonly compartmentId: pulumi.Input<string>;
  /** Display-name prefix, the cluster name. */
  readonly clusterName: string;
  /** Public subnet the load balancer lives in. */
  readonly subnetId: pulumi.Input<string>;
  /** The load balancer's NSG (80/443 from anywhere, 6443 from admin CIDRs). */
  readonly nsgId: pulumi.Input<string>;
  /** Nodes that run the ingress controller on host ports 80/443. */
  readonly ingressNodes: readonly LoadBalancerBackend[];
  /** Nodes that serve the Kubernetes API on 6443. */
  readonly apiNodes: readonly LoadBalancerBackend[];
  /** Freeform tags put on every resource. */
  readonly tags: Record<string, string>;
  /** The load balancer's fixed address in its subnet, where nodes reach the API (kubeadm). */
  readonly privateAddress: string;
  /** The port the Kubernetes API listens on (the distribution owns it). */
  readonly apiPort: number;
}

interface Forward {
  readonly name: string;
  readonly port: number;
  readonly backends: readonly LoadBalancerBackend[];
  /** Keep the client's address (web traffic) or present the load balancer's (API, so NSGs can name it). */
  readonly preserveSource: boolean;
}

/**
 * The free Network Load Balancer on a reserved public IP: 80 and 443 to the ingress nodes'
 * host ports with client addresses preserved, 6443 to the servers.
 */
export class IngressLoadBalancer extends pulumi.ComponentResource {
  public readonly publicIp: pulumi.Output<string>;
  public readonly loadBalancerId: pulumi.Output<string>;
  /** Its address inside the VCN, fixed by the program. */
  public readonly privateAddress: string;
  /**
   * The API listener, ready once the load balancer forwards 6443 to the servers. It waits for
   * the servers' instances only (its backend set is made before the web ones), so a node that
   * needs it waits for no agent's instance.
   */
  public readonly apiListener: pulumi.Resource;

  constructor(name: string, args: IngressLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:infra:IngressLoadBalancer", name, {}, opts);
    const common = { compartmentId: args.compartmentId, freeformTags: args.tags };

    // Reserved, so the address (and DNS pointing at it) survives a replaced load balancer.
    const publicIp = new oci.core.PublicIp(
      "public-ip",
      { ...common, lifetime: "RESERVED", displayName: `${args.clusterName}-ingress` },
      // Oracle sets privateIpId when the load balancer takes the address; the provider does not
      // mark it computed, so without this every refresh would show a change.
      { parent: this, ignoreChanges: ["privateIpId"] },
    );
    const nlb = new oci.networkloadbalancer.NetworkLoadBalancer(
      "nlb",
      {
        ...common,
        displayName: `${args.clusterName}-ingress`,
        subnetId: args.subnetId,
        isPrivate: false,
        isPreserveSourceDestination: false,
        // A fixed private address, so nodes can be told it before the load balancer exists.
        assignedPrivateIpv4: args.privateAddress,
        networkSecurityGroupIds: [args.nsgId],
        reservedIps: [{ id: publicIp.id }],
      },
      { parent: this },
    );

    const forwards: Forward[] = [
      { name: "kube-api", port: args.apiPort, backends: args.apiNodes, preserveSource: false },
      { name: "http", port: HTTP_PORT, backends: args.ingressNodes, preserveSource: true },
      { name: "https", port: HTTPS_PORT, backends: args.ingressNodes, preserveSource: true },
    ];
    // Oracle rejects a change to a load balancer while another is in progress (409), so its
    // backend sets and listeners are created one after another: the API's first, whose listener
    // then depends on the servers' instances alone.
    let previous: pulumi.Resource = nlb;
    const listeners = new Map<string, pulumi.Resource>();
    const apiForward = forwards[0];
    const listen = (f: Forward) => {
      previous = new oci.networkloadbalancer.Listener(
        `${f.name}-listener`,
        { networkLoadBalancerId: nlb.id, name: f.name, defaultBackendSetName: f.name, port: f.port, protocol: "TCP" },
        { parent: this, dependsOn: [previous] },
      );
      listeners.set(f.name, previous);
    };
    for (const f of forwards) {
      const backendSet: oci.networkloadbalancer.NetworkLoadBalancersBackendSetsUnified =
        new oci.networkloadbalancer.NetworkLoadBalancersBackendSetsUnified(
          `${f.name}-backends`,
          {
            networkLoadBalancerId: nlb.id,
            name: f.name,
            policy: "FIVE_TUPLE",
            isPreserveSource: f.preserveSource,
            healthChecker: { protocol: "TCP", port: f.port, intervalInMillis: 10000, timeoutInMillis: 3000, retries: 3 },
            backends: f.backends.map((b) => ({ name: `${b.name}-${f.port}`, targetId: b.instanceId, port: f.port })),
          },
          { parent: this, dependsOn: [previous] },
        );
      previous = backendSet;
      if (f === apiForward) listen(f);
    }
    for (const f of forwards.filter((x) => x !== apiForward)) listen(f);

    this.publicIp = publicIp.ipAddress;
    this.loadBalancerId = nlb.id;
    this.privateAddress = args.privateAddress;
    this.apiListener = listeners.get(apiForward.name)!;
    this.registerOutputs({ publicIp: this.publicIp, loadBalancerId: this.loadBalancerId });
  }
}
