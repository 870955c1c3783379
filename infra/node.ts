import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { DATA_DEVICE, userData } from "./cloud-init";
import { InfraNode } from "./types";

/** The login user of Oracle's Ubuntu images. */
export const SSH_USER = "ubuntu";

/** Balanced performance: the level the free block storage allowance includes. */
const BALANCED_VPUS_PER_GB = "10";

export interface ClusterNodeArgs {
  /** The node as configured, defaults resolved. */
  readonly spec: InfraNode;
  /** Compartment that holds the instance and its volumes. */
  readonly compartmentId: pulumi.Input<string>;
  /** Display-name prefix, the cluster name. */
  readonly clusterName: string;
  /** Availability domain chosen for the node. */
  readonly availabilityDomain: pulumi.Input<string>;
  /** Whether the AD was chosen by the program (kept after creation) rather than pinned by the stack. */
  readonly availabilityDomainDerived: boolean;
  /** Image OCID: the node's pinned imageId or the newest image for its shape. */
  readonly imageId: pulumi.Input<string>;
  /** Subnet of the node's VNIC. */
  readonly subnetId: pulumi.Input<string>;
  /** NSGs of the node's VNIC. */
  readonly nsgIds: pulumi.Input<string>[];
  /** OpenSSH public key for the ubuntu user. */
  readonly sshPublicKey: pulumi.Input<string>;
  /** Freeform tags put on every resource. */
  readonly tags: Record<string, string>;
  /** What the instance waits for before it is created or changed (the node's drain before a resize). */
  readonly changeAfter?: pulumi.Input<pulumi.Resource>;
  /** The compartment's quota policy: in place before the instance is created or grows (infra/guards.ts). */
  readonly quota?: pulumi.Resource;
}

/** One instance with its boot volume, optional data volume and cloud-init host preparation. */
export class ClusterNode extends pulumi.ComponentResource {
  public readonly instanceId: pulumi.Output<string>;
  public readonly privateIp: pulumi.Output<string>;
  /** Empty for a node in the private subnet. */
  public readonly publicIp: pulumi.Output<string>;
  public readonly availabilityDomain: pulumi.Output<string>;
  /** Resolves once the data volume (if any) is attached: what a bootstrap must wait for besides the instance. */
  public readonly volumeAttached: pulumi.Output<string>;
  /** The node's SSH host public key ("ssh-ed25519 AAAA..."), which every connection to it pins. */
  public readonly hostPublicKey: pulumi.Output<string>;

  constructor(name: string, args: ClusterNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:infra:ClusterNode", name, {}, opts);
    const { spec } = args;
    const displayName = `${args.clusterName}-${spec.name}`;
    const tags = { ...args.tags, "oci-k8s-node": spec.name, "oci-k8s-role": spec.role, "oci-k8s-arch": spec.arch };

    // The node's own SSH host key: installed by cloud-init, pinned by every connection, so a
    // man in the middle of the first boot cannot answer in its place.
    const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this });
    this.hostPublicKey = hostKey.publicKeyOpenssh.apply((k) => k.trim());

    const instance = new oci.core.Instance(
      name,
      {
        compartmentId: args.compartmentId,
        availabilityDomain: args.availabilityDomain,
        displayName,
        shape: spec.shape,
        shapeConfig: spec.micro ? undefined : { ocpus: spec.ocpus, memoryInGbs: spec.memoryGb },
        sourceDetails: {
          sourceType: "image",
          sourceId: args.imageId,
          bootVolumeSizeInGbs: String(spec.bootVolumeGb),
          bootVolumeVpusPerGb: BALANCED_VPUS_PER_GB,
        },
        createVnicDetails: {
          subnetId: args.subnetId,
          assignPublicIp: String(spec.subnet === "public"),
          nsgIds: args.nsgIds,
          hostnameLabel: spec.name,
          displayName,
          freeformTags: tags,
        },
        metadata: {
          ssh_authorized_keys: args.sshPublicKey,
          // Secret: it carries the node's SSH host private key.
          user_data: pulumi.secret(
            pulumi
              .all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh])
              .apply(([privateKeyOpenssh, publicKeyOpenssh]) =>
                userData({ dataVolume: spec.dataVolumeGb !== undefined, hostKey: { privateKeyOpenssh, publicKeyOpenssh } }),
              ),
          ),
        },
        // Only the token-protected metadata endpoint (IMDSv2) answers.
        instanceOptions: { areLegacyImdsEndpointsDisabled: true },
        // Terminating the node deletes its boot volume: nothing billable stays behind.
        preserveBootVolume: false,
        freeformTags: tags,
      },
      {
        parent: this,
        ignoreChanges: keptPicks(args),
        dependsOn: [...(args.changeAfter ? [args.changeAfter] : []), ...(args.quota ? [args.quota] : [])],
        // A replaced node leaves first: its guards (k8s/bootstrap/cluster.ts) take it out of the
        // cluster, a server's etcd member included, before the new instance joins under its name.
        deleteBeforeReplace: true,
      },
    );
    this.instanceId = instance.id;
    this.privateIp = instance.privateIp;
    this.publicIp = instance.publicIp.apply((ip) => ip ?? "");
    this.availabilityDomain = instance.availabilityDomain;

    this.volumeAttached =
      spec.dataVolumeGb !== undefined ? this.dataVolume(name, args, instance, spec.dataVolumeGb, tags) : instance.id;

    this.registerOutputs({
      instanceId: this.instanceId,
      privateIp: this.privateIp,
      publicIp: this.publicIp,
      availabilityDomain: this.availabilityDomain,
    });
  }

  /** The data volume in the instance's AD, attached at the consistent device path host preparation mounts. */
  private dataVolume(
    name: string,
    args: ClusterNodeArgs,
    instance: oci.core.Instance,
    sizeGb: number,
    tags: Record<string, string>,
  ): pulumi.Output<string> {
    const displayName = `${args.clusterName}-${args.spec.name}-data`;
    const volume = new oci.core.Volume(
      `${name}-data`,
      {
        compartmentId: args.compartmentId,
        availabilityDomain: instance.availabilityDomain,
        displayName,
        sizeInGbs: String(sizeGb),
        vpusPerGb: BALANCED_VPUS_PER_GB,
        freeformTags: tags,
      },
      { parent: this },
    );
    const attachment = new oci.core.VolumeAttachment(
      `${name}-data`,
      { attachmentType: "paravirtualized", instanceId: instance.id, volumeId: volume.id, device: DATA_DEVICE, displayName },
      { parent: this },
    );
    return attachment.id;
  }
}

/**
 * The program picks the newest image and an AD when the stack pins neither; once the node exists
 * those picks are kept, so a newer Oracle image or a reordered node list never replaces a running
 * node. A pinned value that changes does replace it, on purpose.
 */
function keptPicks(args: ClusterNodeArgs): string[] {
  return [
    ...(args.spec.imageId ? [] : ["sourceDetails.sourceId"]),
    ...(args.availabilityDomainDerived ? ["availabilityDomain"] : []),
    // cloud-init runs on first boot only; a changed host preparation applies to new nodes.
    "metadata.user_data",
  ];
}
