/** GitOps: the repository Argo CD takes the cluster's workloads over from. */
import { z } from "zod";
import { Bad, secret, str, Values } from "./keys";

export const GITOPS_KEYS = {
  gitopsRepoUrl: str(
    z
      .string()
      .regex(/^((https:\/\/|ssh:\/\/|git@)\S+)?$/, "must be an https://, ssh:// or git@ repository URL, or empty")
      .default(""),
    "Git repository Argo CD takes over from (app-of-apps); empty means no hand-off.",
  ),
  gitopsRepoPath: str(
    z.string().default(""),
    "Directory of the root Application's manifests in that repository; empty means clusters/<stack>.",
  ),
  gitopsRepoRevision: str(
    z.string().min(1, "must name a branch, tag or commit").default("main"),
    "Branch, tag or commit Argo CD follows.",
  ),
  gitopsRepoCredential: secret(
    z.string().default(""),
    "HTTPS token or SSH private key for that repository (set it with --secret); empty for a public one.",
  ),
};

export type GitopsValues = Values<typeof GITOPS_KEYS>;

export function checkGitops(c: GitopsValues, bad: Bad): void {
  if (c.gitopsRepoCredential && !c.gitopsRepoUrl) bad("gitopsRepoCredential", "[secret]", "goes with gitopsRepoUrl");
}

export function resolveGitops(c: GitopsValues, stack: string) {
  return {
    gitops: c.gitopsRepoUrl
      ? {
          repoUrl: c.gitopsRepoUrl,
          path: c.gitopsRepoPath || `clusters/${stack}`,
          revision: c.gitopsRepoRevision,
          credential: c.gitopsRepoCredential || undefined,
        }
      : undefined,
  };
}
