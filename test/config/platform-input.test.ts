/**
 * Bad platform, GitOps and backup input stops the program before any resource, naming the key,
 * the value (never a secret's) and what is allowed: a cron schedule that is five valid fields,
 * a repository URL without credentials, a revision and path git can use, no credential in plain
 * text in componentValues.
 */
import { strict as assert } from "assert";
import { parseConfig } from "../../config";
import { runProgram } from "../../scripts/mock-program";
import { base, BadCase } from "./config.fixtures";

/** A secret in a bad case: the refusal must never print it. */
const SECRET = "ghp_NeverPrintThis0123456789";
const REPO = "https://github.com/example/cluster.git";
/** The minimal stack's own keys (parseConfig reads the project's keys only, not oci:region). */
const own = Object.fromEntries(Object.entries(base).filter(([k]) => !k.includes(":")));

const BAD_INPUT: (BadCase & { secret?: string })[] = [
  {
    why: "a schedule that is a cron macro and a command (it became a root cron entry)",
    config: { ...base, etcdBackupSchedule: "@reboot root curl -s x | sh #" },
    key: "oci-k8s:etcdBackupSchedule",
    says: /"@reboot root curl -s x \| sh #" must be a 5-field cron schedule .*like '0 \*\/6 \* \* \*'/,
  },
  {
    why: "a schedule of five fields and a command",
    config: { ...base, etcdBackupSchedule: "0 */6 * * * rm -rf /" },
    key: "oci-k8s:etcdBackupSchedule",
    says: /must be a 5-field cron schedule .*has 8 fields/,
  },
  {
    why: "a schedule whose minute is out of range",
    config: { ...base, etcdBackupSchedule: "61 * * * *" },
    key: "oci-k8s:etcdBackupSchedule",
    says: /minute "61" is not a number 0-59/,
  },
  {
    why: "a schedule with a comment in a field",
    config: { ...base, etcdBackupSchedule: "0 #x * * *" },
    key: "oci-k8s:etcdBackupSchedule",
    says: /hour "#x" is not a number 0-23/,
  },
  {
    why: "a repository URL with a token in it",
    config: { ...base, gitopsRepoUrl: `https://git:${SECRET}@github.com/example/cluster.git` },
    key: "oci-k8s:gitopsRepoUrl",
    says: /"https:\/\/\*\*\*@github\.com\/example\/cluster\.git" carries credentials in the URL: .*gitopsRepoCredential/,
    secret: SECRET,
  },
  {
    why: "a repository URL with a bare token as its user",
    config: { ...base, gitopsRepoUrl: `https://${SECRET}@github.com/example/cluster.git` },
    key: "oci-k8s:gitopsRepoUrl",
    says: /carries credentials in the URL/,
    secret: SECRET,
  },
  {
    why: "an ssh repository URL with a password",
    config: { ...base, gitopsRepoUrl: `ssh://git:${SECRET}@github.com/example/cluster.git` },
    key: "oci-k8s:gitopsRepoUrl",
    says: /carries credentials in the URL/,
    secret: SECRET,
  },
  {
    why: "a revision that is not a git ref",
    config: { ...base, gitopsRepoUrl: REPO, gitopsRepoRevision: "main..dev" },
    key: "oci-k8s:gitopsRepoRevision",
    says: /"main\.\.dev" must be a branch, tag or commit/,
  },
  {
    why: "a revision that is an option",
    config: { ...base, gitopsRepoUrl: REPO, gitopsRepoRevision: "--upload-pack=x" },
    key: "oci-k8s:gitopsRepoRevision",
    says: /must be a branch, tag or commit/,
  },
  {
    why: "a repository path outside the repository",
    config: { ...base, gitopsRepoUrl: REPO, gitopsRepoPath: "../../etc" },
    key: "oci-k8s:gitopsRepoPath",
    says: /"\.\.\/\.\.\/etc" must be a directory inside the repository/,
  },
  {
    why: "an absolute repository path",
    config: { ...base, gitopsRepoUrl: REPO, gitopsRepoPath: "/clusters/dev" },
    key: "oci-k8s:gitopsRepoPath",
    says: /must be a directory inside the repository: relative/,
  },
  {
    why: "Grafana's admin password in componentValues",
    config: { ...base, componentValues: { "kube-prometheus-stack": { grafana: { adminPassword: SECRET } } } },
    key: "oci-k8s:componentValues.kube-prometheus-stack.grafana.adminPassword",
    says: /"\[plain text\]" is Grafana's admin password in plain text: .*grafanaAdminPassword/,
    secret: SECRET,
  },
  {
    why: "a DNS provider's API token in componentValues",
    config: {
      ...base,
      addons: ["external-dns"],
      componentValues: { "external-dns": { provider: { name: "cloudflare" }, cloudflare: { apiToken: SECRET } } },
    },
    key: "oci-k8s:componentValues.external-dns.cloudflare.apiToken",
    says: /"\[plain text\]" is a credential in plain text .*Kubernetes Secret.*existingSecret/,
    secret: SECRET,
  },
  {
    why: "a Dex static client's secret in componentValues",
    config: {
      ...base,
      addons: ["dex"],
      componentValues: { dex: { config: { connectors: [{ type: "github" }], staticClients: [{ id: "x", secret: SECRET }] } } },
    },
    key: "oci-k8s:componentValues.dex.config.staticClients.0.secret",
    says: /is a credential in plain text/,
    secret: SECRET,
  },
];

describe("config: platform, GitOps and backup input", () => {
  for (const bad of BAD_INPUT) {
    it(`rejects ${bad.why}`, async () => {
      const r = await runProgram("bad", bad.config);
      assert.ok(r.error, "the program ran");
      assert.ok(r.error!.message.includes(bad.key), `message does not name ${bad.key}:\n${r.error!.message}`);
      assert.match(r.error!.message, bad.says);
      assert.match(r.error!.message, /nothing was created/);
      if (bad.secret) assert.ok(!r.error!.message.includes(bad.secret), "the refusal prints the secret");
      assert.deepEqual(r.resources, [], "resources were registered");
    });
  }

  it("takes what the docs show: cron schedules, repository URLs, revisions, paths, credentials by reference", () => {
    for (const etcdBackupSchedule of ["0 */6 * * *", "30 2 * * sun", "0 3 * * 1-5", "*/15 0-6,22,23 1 jan *", "0 0 * * 7"])
      parseConfig({ ...own, etcdBackupSchedule }, "dev");
    for (const gitopsRepoUrl of [REPO, "ssh://git@github.com/example/cluster.git", "git@github.com:example/cluster.git"])
      parseConfig({ ...own, gitopsRepoUrl, gitopsRepoRevision: "release/v1.2", gitopsRepoPath: "clusters/dev" }, "dev");
    parseConfig({ ...own, gitopsRepoUrl: REPO, gitopsRepoRevision: "0123456789abcdef0123456789abcdef01234567" }, "dev");
    parseConfig(
      {
        ...own,
        addons: ["external-dns", "dex"],
        componentValues: {
          "external-dns": {
            provider: { name: "cloudflare" },
            env: [{ name: "CF_API_TOKEN", valueFrom: { secretKeyRef: { name: "cloudflare", key: "token" } } }],
          },
          dex: { config: { connectors: [{ type: "github", config: { clientSecret: "$GITHUB_CLIENT_SECRET" } }] } },
          "kube-prometheus-stack": { grafana: { admin: { existingSecret: "mine", passwordKey: "password" } } },
        },
      },
      "dev",
    );
  });
});
