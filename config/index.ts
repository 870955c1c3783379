/**
 * The stack's configuration, above both layers: one table of keys per section, read from Pulumi
 * config and validated as a whole before any resource is registered. The resolved configuration
 * is the schema's own output (a transform), so its type is never written out twice.
 * `Pulumi.yaml` and the configuration reference are generated from these tables.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ARTIFACT_KEYS, checkArtifacts, resolveArtifacts } from "./artifacts";
import { BACKUP_KEYS, checkBackups, resolveBackups } from "./backups";
import { checkCluster, CLUSTER_KEYS, resolveCluster } from "./cluster";
import { checkGitops, GITOPS_KEYS, resolveGitops } from "./gitops";
import { checkHosts, hostSchema, HOSTS_KEYS, resolveHosts } from "./hosts";
import {
  allowed,
  ConfigError,
  ConfigProblem,
  KeySpec,
  keyPath,
  PROJECT,
  SECRET_NOT_SHOWN,
  suggest,
  Values,
  valueAt,
} from "./keys";
import { formatPlaceholders, placeholderProblems, placeholdersReportedOnly } from "./placeholders";
import { regionProblem } from "./regions";
import { checkNetwork, NETWORK_KEYS, resolveNetwork } from "./network";
import { checkNodes, DEFAULT_NODES, NODE_KEYS, nodeSchema, resolveNodes } from "./nodes";
import { checkPlatform, PLATFORM_KEYS, resolvePlatform } from "./platform";
import { checkTenancy, resolveTenancy, TENANCY_KEYS } from "./tenancy";

export { ConfigError, PROJECT } from "./keys";
export type { ConfigProblem, KeySpec, PulumiType } from "./keys";
export { NODE_FIELD_DOCS } from "./nodes";
export { CHOICE_KEYS } from "./platform";
export { DOCUMENTATION_RANGES, formatPlaceholders, placeholderProblems, reportPlaceholdersOffline } from "./placeholders";
export { HOST_FIELD_DOCS } from "./hosts";
export type { HostSpec } from "./hosts";
export type { NodeSpec } from "./nodes";

/** The sections in the order the reference lists them, each with its keys. */
export const SECTIONS = [
  { title: "Tenancy and budget", keys: TENANCY_KEYS },
  { title: "Network and access", keys: NETWORK_KEYS },
  { title: "Nodes", keys: NODE_KEYS },
  { title: "Existing hosts", keys: HOSTS_KEYS },
  { title: "Cluster", keys: CLUSTER_KEYS },
  { title: "Air-gapped install", keys: ARTIFACT_KEYS },
  { title: "Platform", keys: PLATFORM_KEYS },
  { title: "GitOps", keys: GITOPS_KEYS },
  { title: "Backups", keys: BACKUP_KEYS },
] as const;

export const CONFIG_KEYS = {
  ...TENANCY_KEYS,
  ...NETWORK_KEYS,
  ...NODE_KEYS,
  ...HOSTS_KEYS,
  ...CLUSTER_KEYS,
  ...ARTIFACT_KEYS,
  ...PLATFORM_KEYS,
  ...GITOPS_KEYS,
  ...BACKUP_KEYS,
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
type Parsed = Values<typeof CONFIG_KEYS>;

const rootSchema = z.strictObject(
  Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, spec]) => [k, spec.schema])) as {
    [K in ConfigKey]: (typeof CONFIG_KEYS)[K]["schema"];
  },
);

/** Every check across keys, section by section; each reports the key it blames. */
function crossCheck(c: Parsed): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bad = (key: string, value: unknown, message: string) => problems.push({ key, value, message });
  const onHosts = c.hosts !== undefined;
  checkTenancy({ ...c, onHosts }, bad);
  checkNetwork(c, bad);
  checkCluster(c, bad);
  checkArtifacts(c, bad);
  checkHosts({ ...c, nodesGiven: c.nodes !== undefined }, bad);
  if (!onHosts) checkNodes({ ...c, nodes: c.nodes ?? DEFAULT_NODES }, bad);
  checkPlatform({ ...c, dataDisks: dataDisks(c), onHosts }, bad);
  checkGitops(c, bad);
  checkBackups(c, bad);
  return problems;
}

/** Machines with a data disk or volume, which replicated storage spreads over. */
function dataDisks(c: Parsed): number {
  if (c.hosts) return c.hosts.filter((h) => h.dataDisk !== undefined && h.role !== "etcd").length;
  return (c.nodes ?? DEFAULT_NODES).filter((n) => n.dataVolumeGb !== undefined).length;
}

/** The complete, defaulted configuration of a stack. */
function resolve(c: Parsed, stack: string) {
  const cluster = resolveCluster(c, stack);
  return {
    stack,
    ...resolveTenancy(c),
    ...resolveNetwork(c),
    ...resolveNodes({ ...c, nodes: c.hosts ? [] : (c.nodes ?? DEFAULT_NODES) }),
    ...resolveHosts(c),
    ...cluster,
    ...resolveArtifacts(c),
    ...resolvePlatform(c),
    ...resolveGitops(c, stack),
    ...resolveBackups(c, cluster.clusterName),
  };
}

/** The schema of a stack's raw values: the keys, the checks across them, then the resolved configuration. */
export function configSchema(stack: string) {
  return rootSchema
    .superRefine(
      (c, ctx) => {
        for (const p of crossCheck(c))
          ctx.addIssue({ code: "custom", path: [p.key], message: p.message, params: { value: p.value } });
      },
      // Checks across keys run only on values that each passed their own schema.
      { when: (payload) => payload.issues.length === 0 },
    )
    .transform((c) => resolve(c, stack));
}

export type StackConfig = Readonly<z.output<ReturnType<typeof configSchema>>>;

/** Whether the stack holds a config key encrypted (the language host passes the list of such keys). */
const isConfigSecret: (fullKey: string) => boolean =
  // Declared by @pulumi/pulumi's runtime/config.js but not in its typings.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@pulumi/pulumi/runtime/config").isConfigSecret;

/** Reads the project's keys from Pulumi config as plain values, keeping unknown keys to report them. */
export function readRawConfig(): { raw: Record<string, unknown>; problems: ConfigProblem[] } {
  const raw: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const prefix = `${PROJECT}:`;
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    const spec = (CONFIG_KEYS as Record<string, KeySpec>)[key];
    if (!spec) {
      problems.push({
        key: fullKey,
        value: text,
        message: `is not a key of this program; ${suggest(key, Object.keys(CONFIG_KEYS))}${allowed(Object.keys(CONFIG_KEYS))}`,
      });
    } else if (spec.secret && !isConfigSecret(fullKey)) {
      problems.push({
        key: fullKey,
        value: "[plain text]",
        message: `must be encrypted: set it with pulumi config set --secret ${key} (it is a secret)`,
      });
    } else if (spec.type === "string") {
      raw[key] = text;
    } else {
      try {
        raw[key] = JSON.parse(text);
      } catch {
        problems.push({ key: fullKey, value: text, message: notJson(key, spec) });
      }
    }
  }
  // Oracle Cloud stacks need the provider's region; a hosts stack creates nothing there.
  if (raw.hosts === undefined) {
    const region = pulumi.runtime.allConfig()["oci:region"];
    const problem = regionProblem(region, suggest);
    if (problem) problems.push({ key: "oci:region", value: region, message: problem });
  }
  return { raw, problems };
}

/** What a value that is not of its key's type must be, with an example of the stack file's form. */
function notJson(key: string, spec: KeySpec): string {
  if (spec.type === "array") return `must be a YAML list, e.g. ${key}: [${spec.items === "integer" ? "1, 2" : "a, b"}]`;
  if (spec.type === "object") return `must be a YAML list or map (see docs/configuration.md for ${key})`;
  if (spec.type === "integer") {
    // The key's own default makes the example, when it is a real value (budgetAmount's 0 means unset).
    const def = spec.schema.safeParse(undefined);
    const example = def.success && typeof def.data === "number" && def.data > 0 ? def.data : 3;
    return `must be an integer, e.g. ${key}: ${example}`;
  }
  return `must be true or false, e.g. ${key}: true`;
}

/** Validates raw values (as read from the stack) into a complete, defaulted configuration. */
export function parseConfig(raw: Record<string, unknown>, stack: string): StackConfig {
  const result = configSchema(stack).safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const path = issue.path as PropertyKey[];
      const custom = issue.code === "custom" && issue.params && "value" in issue.params;
      const shown = custom ? issue.params!.value : issue.code === "unrecognized_keys" ? issue.keys : valueAt(raw, path);
      // A secret key's value is never printed, however malformed it is.
      const value = (CONFIG_KEYS as Record<string, KeySpec>)[String(path[0])]?.secret ? SECRET_NOT_SHOWN : shown;
      const message =
        issue.code === "unrecognized_keys"
          ? path[0] === "hosts"
            ? `are not host fields; ${allowed(Object.keys(hostSchema.shape))}`
            : `are not node fields; ${allowed(Object.keys(nodeSchema.shape))}`
          : issue.message;
      return { key: `${PROJECT}:${keyPath(path)}`, value, message };
    }),
  );
}

/** Reads and validates the current stack's configuration; throws one ConfigError naming every bad value. */
export function loadConfig(): StackConfig {
  const { raw, problems } = readRawConfig();
  // The examples' placeholders stop preview and up; the offline plan only lists them.
  const placeholders = placeholderProblems(raw);
  if (placeholdersReportedOnly()) {
    if (placeholders.length > 0) pulumi.log.warn(formatPlaceholders(placeholders, `Pulumi.${pulumi.getStack()}.yaml`));
  } else problems.push(...placeholders);
  if (problems.length === 0) return parseConfig(raw, pulumi.getStack());
  // Report the rest too (a required key left unset beside its typo), in one message.
  let more: readonly ConfigProblem[] = [];
  try {
    parseConfig(raw, pulumi.getStack());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    more = error.problems;
  }
  throw new ConfigError([...problems, ...more.filter((p) => !problems.some((q) => q.key === p.key))]);
}

/** The value a key takes when the stack leaves it out, or undefined for a required key. */
export function defaultOf(key: ConfigKey): unknown {
  const result = CONFIG_KEYS[key].schema.safeParse(undefined);
  return result.success ? result.data : undefined;
}
