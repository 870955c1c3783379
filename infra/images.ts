/** Picks the Ubuntu platform image for a shape: newest first, never Minimal, never the wrong architecture. */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { Arch } from "./shapes";

export interface ImageSummary {
  readonly id: string;
  readonly displayName: string;
  readonly timeCreated: string;
}

/**
 * Oracle names Ubuntu images `Canonical-Ubuntu-24.04-aarch64-2026.10.15-0` (ARM) and
 * `Canonical-Ubuntu-24.04-2026.10.15-0` (x86); `-Minimal-` variants lack packages the nodes need.
 */
export function pickImage(images: readonly ImageSummary[], arch: Arch, version: string): ImageSummary | undefined {
  const armTag = "-aarch64-";
  return images
    .filter((i) => i.displayName.startsWith(`Canonical-Ubuntu-${version}-`))
    .filter((i) => !/minimal/i.test(i.displayName))
    .filter((i) => (arch === "arm64") === i.displayName.includes(armTag))
    .sort((a, b) => b.timeCreated.localeCompare(a.timeCreated))[0];
}

/** The newest matching image of a shape in the compartment, looked up once per shape. */
export function ubuntuImageId(
  compartmentId: pulumi.Input<string>,
  shape: string,
  arch: Arch,
  version: string,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<string> {
  return oci.core
    .getImagesOutput(
      {
        compartmentId,
        operatingSystem: "Canonical Ubuntu",
        operatingSystemVersion: version,
        shape,
        sortBy: "TIMECREATED",
        sortOrder: "DESC",
        state: "AVAILABLE",
      },
      opts,
    )
    .apply((result) => {
      const image = pickImage(result.images, arch, version);
      if (!image) {
        throw new Error(
          `No Canonical Ubuntu ${version} ${arch} image for ${shape} is listed in this region; ` +
            `set imageId on the node to an image OCID, or choose another ubuntuVersion.`,
        );
      }
      return image.id;
    });
}
