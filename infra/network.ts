import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { WORLD } from "./cidr";
import { ClusterPort } from "./ports";
import { NSG_NAMES, NsgName, PATH_MTU_ICMP, PROTOCOL_NUMBER, ruleName, securityRules } from "./security-rules";

export interface NetworkArgs {
  /** Compartment that holds the network. */
  readonly compartmentId: pulumi.Input<string>;
  /** Display-name prefix, the cluster name. */
  readonly clusterName: string;
  /** IPv4 range of the VCN. */
  readonly vcnCidr: string;
  /** Range of the public subnet (load balancer and public nodes). */
  readonly publicSubnetCidr: string;
  /** Range of the private subnet; only created with a NAT gateway. */
  readonly privateSubnetCidr: string;
  /** Create a NAT gateway and a private subnet for nodes. */
  readonly natGateway: boolean;
  /** The only ports opened between nodes: what the Kubernetes distribution needs. */
  readonly clusterPorts: readonly ClusterPort[];
  /** Nodes reach the API through the load balancer's private address (kubeadm). */
  readonly internalApi?: boolean;
  /** The port the Kubernetes API listens on. */
  readonly apiPort: number;
  /** CIDRs allowed to reach SSH and the Kubernetes API. */
  readonly adminCidrs: readonly string[];
  /** Freeform tags put on every resource. */
  readonly tags: Record<string, string>;
}

/** VCN, gateways, route tables, subnets and least-privilege network security groups. */
export class Network extends pulumi.ComponentResource {
  public readonly vcnId: pulumi.Output<string>;
  public readonly publicSubnetId: pulumi.Output<string>;
  /** The private subnet's ID, when the network has a NAT gateway. */
  public readonly privateSubnetId?: pulumi.Output<string>;
  public readonly nsgIds: Record<NsgName, pulumi.Output<string>>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:infra:Network", name, {}, opts);
    const parent = { parent: this };
    const common = { compartmentId: args.compartmentId, freeformTags: args.tags };
    const display = (what: string) => `${args.clusterName}-${what}`;

    const vcn = new oci.core.Vcn(
      "vcn",
      {
        ...common,
        cidrBlocks: [args.vcnCidr],
        displayName: display("vcn"),
        dnsLabel: args.clusterName.replace(/[^a-z0-9]/g, "").slice(0, 15),
      },
      parent,
    );
    const vcnScope = { ...common, vcnId: vcn.id };
    const defaultSecurityList = this.defaultSecurityList(vcn, args, display);

    const internetGateway = new oci.core.InternetGateway(
      "internet-gateway",
      { ...vcnScope, enabled: true, displayName: display("igw") },
      parent,
    );
    // A route table and a subnet per kind: the public one routes to the internet gateway, the
    // private one (with natGateway) to the NAT gateway and forbids public IPs.
    const subnet = (kind: "public" | "private", cidrBlock: string, gatewayId: pulumi.Input<string>) => {
      const routes = new oci.core.RouteTable(
        `${kind}-routes`,
        {
          ...vcnScope,
          displayName: display(kind),
          routeRules: [{ destination: WORLD, destinationType: "CIDR_BLOCK", networkEntityId: gatewayId }],
        },
        parent,
      );
      return new oci.core.Subnet(
        `${kind}-subnet`,
        {
          ...vcnScope,
          cidrBlock,
          displayName: display(kind),
          dnsLabel: kind,
          routeTableId: routes.id,
          securityListIds: [vcn.defaultSecurityListId],
          prohibitPublicIpOnVnic: kind === "private",
        },
        { parent: this, dependsOn: [defaultSecurityList] },
      ).id;
    };
    this.vcnId = vcn.id;
    this.publicSubnetId = subnet("public", args.publicSubnetCidr, internetGateway.id);
    if (args.natGateway) {
      const natGateway = new oci.core.NatGateway("nat-gateway", { ...vcnScope, displayName: display("nat") }, parent);
      this.privateSubnetId = subnet("private", args.privateSubnetCidr, natGateway.id);
    }
    this.nsgIds = this.securityGroups(vcnScope, args, display);

    this.registerOutputs({
      vcnId: this.vcnId,
      publicSubnetId: this.publicSubnetId,
      privateSubnetId: this.privateSubnetId,
      nsgIds: this.nsgIds,
    });
  }

  /**
   * Oracle's default security list opens SSH to the world; this one keeps only path MTU
   * discovery and egress. Every port is opened by an NSG rule instead.
   */
  private defaultSecurityList(vcn: oci.core.Vcn, args: NetworkArgs, display: (what: string) => string) {
    return new oci.core.DefaultSecurityList(
      "default-security-list",
      {
        compartmentId: args.compartmentId,
        freeformTags: args.tags,
        manageDefaultResourceId: vcn.defaultSecurityListId,
        displayName: display("default"),
        ingressSecurityRules: [
          { protocol: PROTOCOL_NUMBER.icmp, source: WORLD, icmpOptions: PATH_MTU_ICMP, description: "path MTU discovery" },
          {
            protocol: PROTOCOL_NUMBER.icmp,
            source: args.vcnCidr,
            icmpOptions: { type: 3 },
            description: "unreachable messages inside the VCN",
          },
        ],
        egressSecurityRules: [{ protocol: PROTOCOL_NUMBER.all, destination: WORLD, description: "all egress" }],
      },
      { parent: this },
    );
  }

  /** One NSG per group, and every rule of security-rules.ts as one NSG rule. */
  private securityGroups(
    vcnScope: { compartmentId: pulumi.Input<string>; freeformTags: Record<string, string>; vcnId: pulumi.Input<string> },
    args: NetworkArgs,
    display: (what: string) => string,
  ): Record<NsgName, pulumi.Output<string>> {
    const parent = { parent: this };
    const nsgs = Object.fromEntries(
      NSG_NAMES.map((nsg) => [
        nsg,
        new oci.core.NetworkSecurityGroup(`nsg-${nsg}`, { ...vcnScope, displayName: display(nsg) }, parent),
      ]),
    ) as Record<NsgName, oci.core.NetworkSecurityGroup>;
    const rules = securityRules({
      clusterPorts: args.clusterPorts,
      adminCidrs: args.adminCidrs,
      privateNodes: args.natGateway,
      internalApi: args.internalApi,
      apiPort: args.apiPort,
    });
    for (const rule of rules) {
      const peer =
        "cidr" in rule.peer
          ? { address: rule.peer.cidr, type: "CIDR_BLOCK" }
          : { address: nsgs[rule.peer.nsg].id, type: "NETWORK_SECURITY_GROUP" };
      const range = rule.ports ? { destinationPortRange: rule.ports } : undefined;
      new oci.core.NetworkSecurityGroupSecurityRule(
        `rule-${ruleName(rule)}`,
        {
          networkSecurityGroupId: nsgs[rule.nsg].id,
          direction: rule.direction,
          protocol: PROTOCOL_NUMBER[rule.protocol],
          description: rule.description,
          stateless: false,
          ...(rule.direction === "INGRESS"
            ? { source: peer.address, sourceType: peer.type }
            : { destination: peer.address, destinationType: peer.type }),
          tcpOptions: rule.protocol === "tcp" ? range : undefined,
          udpOptions: rule.protocol === "udp" ? range : undefined,
          icmpOptions: rule.icmp,
        },
        parent,
      );
    }
    return Object.fromEntries(NSG_NAMES.map((nsg) => [nsg, nsgs[nsg].id])) as Record<NsgName, pulumi.Output<string>>;
  }
}
