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

/** A git ref name as `git check-ref-format` allows (a branch, tag or commit), in the characters a ref needs. */
const REVISION = /^(?![-/.])(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*(\/|\.|\.lock)$)(?!.*\/\.)[A-Za-z0-9._/@+-]+$/;
/** A directory inside the repository: relative, without `..`. */
const REPO_PATH = /^(?!\/)(?!(.*\/)?\.\.(\/|$))[A-Za-z0-9._/-]*$/;

/** The URL with any user information masked, to name it in an error without printing a credential. */
const masked = (url: string) => url.replace(/^([a-z]+:\/\/)[^/@\s]*@/, "$1***@");

export function checkGitops(c: GitopsValues, bad: Bad): void {
  if (c.gitopsRepoCredential && !c.gitopsRepoUrl) bad("gitopsRepoCredential", "[secret]", "goes with gitopsRepoUrl");
  const url = c.gitopsRepoUrl;
  if (url) {
    // https://user:token@host/... or https://token@host/...; ssh://git:password@host/... (a user alone is fine over SSH).
    const userinfo = /^([a-z]+):\/\/([^/@\s]*)@/.exec(url);
    if (userinfo && (userinfo[1] === "https" || userinfo[2].includes(":")))
      bad(
        "gitopsRepoUrl",
        masked(url),
        "carries credentials in the URL: give the URL without them, and the token or key in gitopsRepoCredential (pulumi config set --secret gitopsRepoCredential)",
      );
    else {
      const host = /^(?:https:\/\/|ssh:\/\/(?:[\w.-]+@)?|[\w.-]+@)([A-Za-z0-9.-]+)(?::\d+)?[/:]\S+$/.exec(url);
      if (!host) bad("gitopsRepoUrl", url, "must be https://HOST/PATH, ssh://[USER@]HOST/PATH or USER@HOST:PATH");
    }
  }
  if (!REVISION.test(c.gitopsRepoRevision))
    bad(
      "gitopsRepoRevision",
      c.gitopsRepoRevision,
      "must be a branch, tag or commit: letters, digits and . _ / @ + -, not starting with - / or ., without .., // or @{, not ending with / . or .lock",
    );
  if (!REPO_PATH.test(c.gitopsRepoPath))
    bad(
      "gitopsRepoPath",
      c.gitopsRepoPath,
      "must be a directory inside the repository: relative, letters, digits and . _ / -, no ..",
    );
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
