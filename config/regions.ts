/**
 * Oracle Cloud region identifiers, as `oci:region` takes them. Source: Oracle's Go SDK, the list
 * every OCI tool resolves regions from (github.com/oracle/oci-go-sdk, common/regions.go, v65.68.0;
 * Oracle's page "Regions and Availability Domains", docs.oracle.com/iaas/Content/General/Concepts/regions.htm).
 * A region Oracle opens later is added here (the refusal names this file).
 */
export const OCI_REGIONS = [
  "af-johannesburg-1",
  "ap-chiyoda-1",
  "ap-chuncheon-1",
  "ap-dcc-canberra-1",
  "ap-dcc-gazipur-1",
  "ap-hyderabad-1",
  "ap-ibaraki-1",
  "ap-melbourne-1",
  "ap-mumbai-1",
  "ap-osaka-1",
  "ap-seoul-1",
  "ap-singapore-1",
  "ap-sydney-1",
  "ap-tokyo-1",
  "ca-montreal-1",
  "ca-toronto-1",
  "eu-amsterdam-1",
  "eu-dcc-dublin-1",
  "eu-dcc-dublin-2",
  "eu-dcc-milan-1",
  "eu-dcc-milan-2",
  "eu-dcc-rating-1",
  "eu-dcc-rating-2",
  "eu-dcc-zurich-1",
  "eu-frankfurt-1",
  "eu-frankfurt-2",
  "eu-jovanovac-1",
  "eu-madrid-1",
  "eu-madrid-2",
  "eu-marseille-1",
  "eu-milan-1",
  "eu-paris-1",
  "eu-stockholm-1",
  "eu-zurich-1",
  "il-jerusalem-1",
  "me-abudhabi-1",
  "me-abudhabi-3",
  "me-dcc-doha-1",
  "me-dcc-muscat-1",
  "me-dubai-1",
  "me-jeddah-1",
  "mx-monterrey-1",
  "mx-queretaro-1",
  "sa-bogota-1",
  "sa-santiago-1",
  "sa-saopaulo-1",
  "sa-valparaiso-1",
  "sa-vinhedo-1",
  "uk-cardiff-1",
  "uk-gov-cardiff-1",
  "uk-gov-london-1",
  "uk-london-1",
  "us-ashburn-1",
  "us-chicago-1",
  "us-gov-ashburn-1",
  "us-gov-chicago-1",
  "us-gov-phoenix-1",
  "us-langley-1",
  "us-luke-1",
  "us-phoenix-1",
  "us-saltlake-2",
  "us-sanjose-1",
] as const;

/** The problem with a stack's `oci:region` (required on Oracle Cloud), or undefined when it is one of Oracle's. */
export function regionProblem(
  region: string | undefined,
  suggest: (word: string, among: readonly string[]) => string,
): string | undefined {
  if (region === undefined || region === "") {
    return "is required on Oracle Cloud: set oci:region to your home region's identifier (Always Free resources live there), e.g. eu-frankfurt-1";
  }
  if ((OCI_REGIONS as readonly string[]).includes(region)) return undefined;
  const near = OCI_REGIONS.filter((r) => r.split("-").includes(region.toLowerCase()));
  const hint = near.length ? `did you mean ${near.join(" or ")}? ` : suggest(region, OCI_REGIONS);
  return `is not an Oracle Cloud region identifier; ${hint}identifiers look like eu-frankfurt-1 (config/regions.ts lists them)`;
}
