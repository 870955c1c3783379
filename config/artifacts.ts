/**
 * Air-gapped installs: the distribution's installer, binaries and image tarballs from a mirror
 * URL or a directory pre-staged on every host, each pinned by sha256 (as k3s-ansible's
 * `airgap_dir` and Kubespray's offline mode offer). Without `artifactSource`, nodes download
 * from the distribution's release URLs.
 */
import { z } from "zod";
import { ARTIFACT_FILES, Artifacts, FIRST_ARTIFACT } from "../k8s/bootstrap/artifacts";
import type { DistributionName } from "../k8s/bootstrap/distributions";
import { allowed, Bad, str, Values } from "./keys";

export const ARTIFACT_KEYS = {
  artifactSource: str(
    z.string().default(""),
    "Air-gapped install: an http(s) URL of a mirror, or an absolute directory pre-staged on every host, holding the distribution's release files (k3s, rke2 or kubeadm; see docs/existing-hosts.md, Air-gapped install); empty downloads from the distribution's releases.",
  ),
  artifactSha256: {
    schema: z.record(z.string(), z.string(), { error: "must map file names to sha256 digests" }).default({}),
    type: "object" as const,
    description:
      "Air-gapped install: the sha256 of every file under artifactSource the nodes use, {install.sh: <sha256>, k3s-arm64: <sha256>, ...}; a file whose digest differs is refused.",
  },
};

export type ArtifactValues = Values<typeof ARTIFACT_KEYS>;

const URL_SOURCE = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%+-]+)*\/?$/;
const DIR_SOURCE = /^(\/[A-Za-z0-9._+-]+)+\/?$/;

export function checkArtifacts(c: ArtifactValues & { distribution: DistributionName }, bad: Bad): void {
  const source = c.artifactSource;
  const pinned = Object.keys(c.artifactSha256);
  if (!source) {
    if (pinned.length > 0)
      bad("artifactSha256", pinned, "pins files, but artifactSource names no mirror or directory to take them from");
    return;
  }
  if (!(URL_SOURCE.test(source) || (DIR_SOURCE.test(source) && !source.split("/").includes("..")))) {
    bad(
      "artifactSource",
      source,
      "must be an http:// or https:// URL (no credentials, query or spaces) or an absolute directory without '..'",
    );
  }
  const files = ARTIFACT_FILES[c.distribution];
  if (!files) {
    bad(
      "artifactSource",
      source,
      `is not supported for ${c.distribution} yet; air-gapped installs are for k3s, rke2 and kubeadm`,
    );
    return;
  }
  for (const [name, digest] of Object.entries(c.artifactSha256)) {
    if (!files.includes(name))
      bad(`artifactSha256.${name}`, digest, `is not a ${c.distribution} release file; ${allowed(files)}`);
    else if (!/^[0-9a-f]{64}$/.test(digest))
      bad(`artifactSha256.${name}`, digest, "must be a sha256 digest: 64 lowercase hex digits");
  }
  const first = FIRST_ARTIFACT[c.distribution]!;
  if (!pinned.includes(first))
    bad(
      "artifactSha256",
      pinned,
      `must pin ${first}, the ${first === "install.sh" ? "installer" : "binary"} every node runs first`,
    );
}

export function resolveArtifacts(c: ArtifactValues): { artifacts?: Artifacts } {
  return c.artifactSource ? { artifacts: { source: c.artifactSource.replace(/\/$/, ""), sha256: c.artifactSha256 } } : {};
}
