/** Which version changes a running cluster can take: one minor version up at a time, never down. */

export interface VersionChange {
  readonly distribution: string;
  readonly from: { readonly distribution: string; readonly version: string };
  readonly to: string;
}

const MINOR = /^v(\d+)\.(\d+)\.(\d+)/;

/** The minor version of a release (v1.36.2+rke2r1 is 36). */
export function minorOf(version: string): number {
  return parts(version)[1];
}

function parts(version: string): [number, number, number] {
  const m = MINOR.exec(version);
  if (!m) throw new Error(`not a Kubernetes version: ${version}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Why a change cannot be applied to the running cluster, or undefined when it can. */
export function refuseVersionChange(change: VersionChange): string | undefined {
  const { from, to, distribution } = change;
  if (from.distribution !== distribution) {
    return `distribution: the cluster runs ${from.distribution}; switching a running cluster to ${distribution} is not an upgrade. Create a new stack for ${distribution}, or set distribution back to ${from.distribution}.`;
  }
  const [fMajor, fMinor, fPatch] = parts(from.version);
  const [tMajor, tMinor, tPatch] = parts(to);
  const older = tMajor < fMajor || (tMajor === fMajor && (tMinor < fMinor || (tMinor === fMinor && tPatch < fPatch)));
  if (older) {
    return `distributionVersion: ${to} is older than the running ${from.version}; Kubernetes does not downgrade. Restore an etcd snapshot taken before the upgrade instead.`;
  }
  if (tMajor !== fMajor || tMinor > fMinor + 1) {
    const next = `v${fMajor}.${fMinor + 1}`;
    return `distributionVersion: ${to} skips a minor version from the running ${from.version}; upgrade to the newest ${next}.x release first, then to ${to}.`;
  }
  return undefined;
}
