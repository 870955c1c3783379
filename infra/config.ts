/**
 * The stack's configuration: one table of keys (schema, Pulumi type, description), read from
 * Pulumi config and validated as a whole before any resource is registered. `Pulumi.yaml` and
 * README's configuration reference are checked against this table by the tests.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { TIERS, Tier } from "./allowance";
import { Cidr, cidrContains, cidrsOverlap, parseCidr, WIDEST_ADMIN_PREFIX } from "./cidr";
import { DISTRIBUTION_NAMES, DistributionName, DISTRIBUTIONS, EtcdBackup } from "../k8s/bootstrap/distributions";
import { NODE_ROLES, NodeRole } from "../k8s/bootstrap/types";
import { ADDON_NAMES, CATALOG, catalogEntry, choicesOf, DEFAULT_CHOICES } from "../k8s/catalog";
import { A1_FLEX, Arch, BLOCK_VOLUME_GB, DEFAULT_MEMORY_PER_OCPU_GB, MIN_BOOT_VOLUME_GB, SHAPE_NAMES, SHAPES } from "./shapes";

export const PROJECT = "oci-k8s";

const allowed = (values: readonly string[]) => `allowed: ${values.join(", ")}`;

const NODE_NAME = /^[a-z][a-z0-9-]{0,29}$/;
const AD_NAME = /^[A-Za-z0-9]+:[A-Z0-9-]+-AD-[1-3]$/;
const AD_MESSAGE = "must be an availability domain number 1-3 or a full name like Uocm:EU-FRANKFURT-1-AD-1";
const adNumber = () => z.int({ error: AD_MESSAGE }).min(1, AD_MESSAGE).max(3, AD_MESSAGE);

const nodeSchema = z.strictObject({
  name: z.string().regex(NODE_NAME, "must be a lowercase DNS label of 1-30 characters (a-z, 0-9, -) starting with a letter"),
  role: z.enum(NODE_ROLES, { error: allowed(NODE_ROLES) }),
  shape: z.enum(SHAPE_NAMES, { error: allowed(SHAPE_NAMES) }).default(A1_FLEX),
  ocpus: z.number({ error: "must be a number" }).optional(),
  memoryGb: z.number({ error: "must be a number" }).optional(),
  bootVolumeGb: z
    .int({ error: "must be a whole number of GB" })
    .min(MIN_BOOT_VOLUME_GB, `must be at least ${MIN_BOOT_VOLUME_GB} GB (Oracle's smallest boot volume)`)
    .max(BLOCK_VOLUME_GB.max, `must be at most ${BLOCK_VOLUME_GB.max} GB`)
    .default(MIN_BOOT_VOLUME_GB),
  dataVolumeGb: z
    .int({ error: "must be a whole number of GB" })
    .min(BLOCK_VOLUME_GB.min, `must be at least ${BLOCK_VOLUME_GB.min} GB (Oracle's smallest block volume)`)
    .max(BLOCK_VOLUME_GB.max, `must be at most ${BLOCK_VOLUME_GB.max} GB`)
    .optional(),
  availabilityDomain: z.union([adNumber(), z.string().regex(AD_NAME, AD_MESSAGE)], { error: AD_MESSAGE }).optional(),
  imageId: z
    .string()
    .regex(/^ocid1\.image\.oc\d+\.[a-z0-9-]*\.[a-z0-9]+$/, "must be an image OCID (ocid1.image.oc1.<region>.<id>)")
    .optional(),
  subnet: z.enum(["public", "private"], { error: allowed(["public", "private"]) }).optional(),
  ingress: z.boolean({ error: "must be true or false" }).optional(),
});

export type RawNode = z.infer<typeof nodeSchema>;

/** One line per node field for README; typed by the schema, so a new field cannot go undocumented. */
export const NODE_FIELD_DOCS: Readonly<Record<keyof RawNode, string>> = {
  name: "**required** Node name: hostname, Kubernetes node name and resource name (a-z, 0-9, -; 1-30 characters).",
  role: "**required** `server` (control plane, also runs workloads), `agent`, or `etcd` (k3s/RKE2: an etcd member only, no API or workloads; fits a micro). Servers on A1; etcd members (servers + etcd): 1 or 3.",
  shape: "`VM.Standard.A1.Flex` (arm64, default) or `VM.Standard.E2.1.Micro` (amd64, 1/8 OCPU, 1 GB, tainted).",
  ocpus: "A1 only: whole OCPUs, 1-80 (default 1).",
  memoryGb: "A1 only: GB, 1-64 per OCPU (default 6 per OCPU).",
  bootVolumeGb: "Boot volume, at least 50 GB (default 50). Counts against the 200 GB block allowance.",
  dataVolumeGb: "Optional data block volume (at least 50 GB), formatted once and mounted at `/var/mnt/k8s-data`.",
  availabilityDomain: "Optional AD number (1-3) or full AD name; otherwise nodes are spread over `availabilityDomains`.",
  imageId: "Optional image OCID to pin; otherwise the newest Canonical Ubuntu image for the shape at creation.",
  subnet: "`public` or `private` (default: private with `natGateway`, else public). Private needs `natGateway`.",
  ingress: "Receives 80/443 from the load balancer (default: true on A1, false and not allowed on micro).",
};

/** The Pulumi project config types (`Pulumi.yaml` can declare only these; objects are validated here). */
export type PulumiType = "string" | "boolean" | "integer" | "array" | "object";

export interface KeySpec {
  readonly schema: z.ZodType;
  readonly type: PulumiType;
  /** Item type for arrays, as declared in `Pulumi.yaml`. */
  readonly items?: "string" | "integer";
  /** Declared `secret: true`: Pulumi keeps the value encrypted in the stack file. */
  readonly secret?: boolean;
  readonly description: string;
}

const str = <S extends z.ZodType>(schema: S, description: string) => ({ schema, type: "string" as const, description });
const bool = (def: boolean, description: string) => ({
  schema: z.boolean({ error: "must be true or false" }).default(def),
  type: "boolean" as const,
  description,
});

export const CONFIG_KEYS = {
  compartmentId: str(
    z
      .string({ error: "is required" })
      .regex(
        /^ocid1\.(compartment|tenancy)\.oc\d+\.\.[a-z0-9]+$/,
        "must be a compartment or tenancy OCID (ocid1.compartment.oc1..<id>)",
      ),
    "OCID of the compartment that holds every resource (the tenancy OCID for the root compartment).",
  ),
  tier: str(
    z.enum(TIERS, { error: allowed(TIERS) }).default("always-free"),
    "Tenancy type: always-free (nothing beyond the free allowance can exist) or payg (the same free allowance, 2 OCPU / 12 GB A1; beyond it is billed, and NAT gateways exist).",
  ),
  acceptCharges: bool(
    false,
    "payg only: turn a plan billed beyond the free allowance from an error into a warning that states the monthly cost.",
  ),
  budgetSharedWith: str(
    z
      .string()
      .regex(/^([\w.-]+\/[\w.-]+\/[\w.-]+|[\w.-]+)?$/, "must be a stack name like organization/oci-k8s/prd, or empty")
      .default(""),
    "Another stack in the same tenancy (e.g. organization/oci-k8s/prd) whose freeTierUsage counts against this stack's allowance.",
  ),
  adminCidrs: {
    schema: z.array(z.string(), { error: "must be a list of CIDRs" }).min(1, "must name at least one CIDR"),
    type: "array" as const,
    items: "string" as const,
    description: "CIDRs allowed to reach SSH (22) and the Kubernetes API (6443), e.g. your address as x.x.x.x/32.",
  },
  allowWorldAdminAccess: bool(
    false,
    `Explicit opt-in to let adminCidrs hold ranges wider than /${WIDEST_ADMIN_PREFIX}, 0.0.0.0/0 included (SSH and the cluster's ports open to the internet).`,
  ),
  kernelHold: bool(
    false,
    "Hold every node's kernel packages at the kernel it runs, so unattended upgrades leave them alone; false lets kernel updates in.",
  ),
  clusterName: str(
    z
      .string()
      .regex(/^([a-z][a-z0-9-]{0,21})?$/, "must be a lowercase DNS label of at most 22 characters starting with a letter")
      .default(""),
    "Name prefix of every resource and of the cluster; empty means oci-k8s-<stack>.",
  ),
  clusterDomain: str(
    z
      .string()
      .regex(/^((?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$|^$/, "must be a DNS name like dev.example.com, or empty")
      .default(""),
    "DNS zone for ingress hostnames and certificates; empty means <ingress IP>.sslip.io.",
  ),
  distribution: str(
    z.enum(DISTRIBUTION_NAMES, { error: allowed(DISTRIBUTION_NAMES) }).default("k3s"),
    "Kubernetes distribution: k3s, kubeadm or rke2 (sets the ports opened between nodes).",
  ),
  distributionVersion: str(
    z.string().default(""),
    "Exact release of the distribution (v1.34.9+k3s1, v1.34.9+rke2r1, v1.34.9); empty means the version this program pins.",
  ),
  vcnCidr: str(
    z.string().default("10.0.0.0/16"),
    "IPv4 range of the VCN, /16 to /30; must not overlap the cluster's pod and service networks.",
  ),
  publicSubnetCidr: str(
    z.string().default("10.0.0.0/24"),
    "Range of the public subnet (load balancer, public nodes), inside vcnCidr.",
  ),
  privateSubnetCidr: str(z.string().default("10.0.1.0/24"), "Range of the private subnet for nodes, used when natGateway is on."),
  natGateway: bool(false, "Create a NAT gateway and put nodes in a private subnet (payg only: Always Free has no NAT)."),
  availabilityDomains: {
    schema: z.array(adNumber(), { error: "must be a list of availability domain numbers 1-3" }).default([]),
    type: "array" as const,
    items: "integer" as const,
    description: "Availability domain numbers to spread nodes over, in order; empty means every AD of the region.",
  },
  ubuntuVersion: str(
    z
      .string()
      .regex(/^\d{2}\.\d{2}$/, "must be an Ubuntu release like 24.04")
      .default("24.04"),
    "Canonical Ubuntu release of the node images (newest image for the shape, unless a node pins imageId).",
  ),
  sshPublicKey: str(
    z
      .string()
      .regex(
        /^((ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?)?$/,
        "must be an OpenSSH public key line",
      )
      .default(""),
    "OpenSSH public key for the ubuntu user; empty means one is generated and its private key is a secret output.",
  ),
  sshPrivateKey: {
    schema: z
      .string()
      .regex(
        /^(-----BEGIN (OPENSSH|RSA|EC) PRIVATE KEY-----[\s\S]+-----END (OPENSSH|RSA|EC) PRIVATE KEY-----\s*)?$/,
        "must be a PEM or OpenSSH private key",
      )
      .default(""),
    type: "string" as const,
    secret: true,
    description: "Private key matching sshPublicKey (set it with --secret); empty means the SSH agent (SSH_AUTH_SOCK) holds it.",
  },
  ingressController: str(
    z
      .enum(choicesOf("ingress") as [string, ...string[]], { error: allowed(choicesOf("ingress")) })
      .default(DEFAULT_CHOICES.ingress),
    "Ingress controller on host ports 80/443 behind the load balancer: traefik, or ingress-nginx for those who need it.",
  ),
  storage: str(
    z
      .enum(choicesOf("storage") as [string, ...string[]], { error: allowed(choicesOf("storage")) })
      .default(DEFAULT_CHOICES.storage),
    "Default StorageClass: local-path (node-local, on the data volume) or longhorn (replicated; needs data volumes on 2+ nodes).",
  ),
  monitoring: str(
    z
      .enum(choicesOf("monitoring") as [string, ...string[]], { error: allowed(choicesOf("monitoring")) })
      .default(DEFAULT_CHOICES.monitoring),
    "Monitoring stack: kube-prometheus-stack, or the lighter victoria-metrics-k8s-stack.",
  ),
  addons: {
    schema: z.array(z.string(), { error: "must be a list of addon names" }).default([]),
    type: "array" as const,
    items: "string" as const,
    description: `Addons to install, by name: ${ADDON_NAMES.join(", ")}.`,
  },
  componentValues: {
    schema: z
      .record(z.string(), z.record(z.string(), z.unknown()), { error: "must map component names to Helm values" })
      .default({}),
    type: "object" as const,
    description: "Helm values per component, merged over the catalog's defaults: {traefik: {...}, external-dns: {...}}.",
  },
  acmeEmail: str(
    z
      .string()
      .regex(/^([^@\s]+@[^@\s]+\.[a-z]{2,})?$/, "must be an email address, or empty")
      .default(""),
    "Contact address given to Let's Encrypt (optional).",
  ),
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
  gitopsRepoCredential: {
    schema: z.string().default(""),
    type: "string" as const,
    secret: true,
    description: "HTTPS token or SSH private key for that repository (set it with --secret); empty for a public one.",
  },
  etcdBackupSchedule: str(
    z
      .string()
      .regex(/^(\S+[ \t]+){4}\S+$/, "must be a 5-field cron schedule like '0 */6 * * *'")
      .default("0 */6 * * *"),
    "When etcd snapshots are taken (cron, UTC on the nodes).",
  ),
  etcdBackupRetention: {
    schema: z
      .int({ error: "must be a whole number" })
      .min(1, "must keep at least 1 snapshot")
      .max(500, "must be at most 500")
      .default(28),
    type: "integer" as const,
    description: "etcd snapshots kept on each server and in the bucket (28 = a week at the default schedule).",
  },
  etcdBackupBucket: str(
    z
      .string()
      .regex(/^([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])?$/, "must be a bucket name, or empty")
      .default(""),
    "S3-compatible bucket (e.g. OCI Object Storage, free up to 20 GB) the etcd snapshots are also uploaded to; empty keeps them on the servers only.",
  ),
  etcdBackupEndpoint: str(
    z
      .string()
      .regex(/^([a-z0-9.-]+(:\d+)?)?$/, "must be a host name like <namespace>.compat.objectstorage.<region>.oraclecloud.com")
      .default(""),
    "S3 endpoint host of etcdBackupBucket, e.g. <namespace>.compat.objectstorage.<region>.oraclecloud.com.",
  ),
  etcdBackupRegion: str(z.string().default(""), "Region of etcdBackupBucket, e.g. eu-frankfurt-1."),
  etcdBackupAccessKey: {
    schema: z.string().default(""),
    type: "string" as const,
    secret: true,
    description: "Access key of an OCI customer secret key for etcdBackupBucket (set it with --secret).",
  },
  etcdBackupSecretKey: {
    schema: z.string().default(""),
    type: "string" as const,
    secret: true,
    description: "Secret key of that customer secret key (set it with --secret).",
  },
  nodes: {
    schema: z
      .array(nodeSchema, { error: "must be a list of nodes" })
      .default([
        { name: "server-1", role: "server", shape: A1_FLEX, ocpus: 2, memoryGb: 12, bootVolumeGb: 50, dataVolumeGb: 100 },
      ]),
    type: "object" as const,
    description:
      "The nodes: a list of {name, role (server|agent|etcd), shape, ocpus, memoryGb, bootVolumeGb, dataVolumeGb, availabilityDomain, imageId, subnet, ingress}.",
  },
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;

const rootSchema = z.strictObject(
  Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, spec]) => [k, spec.schema])) as {
    [K in ConfigKey]: (typeof CONFIG_KEYS)[K]["schema"];
  },
);

type Parsed = z.infer<typeof rootSchema>;

/** A node with every default resolved. */
export interface NodeSpec {
  readonly name: string;
  readonly role: NodeRole;
  readonly shape: string;
  readonly arch: Arch;
  readonly ocpus: number;
  readonly memoryGb: number;
  readonly bootVolumeGb: number;
  readonly dataVolumeGb?: number;
  readonly availabilityDomain?: number | string;
  readonly imageId?: string;
  readonly subnet: "public" | "private";
  /** Receives ports 80/443 from the ingress load balancer. */
  readonly ingress: boolean;
  /** A 1 GB micro node, tainted so that only workloads that tolerate it land there. */
  readonly micro: boolean;
}

export interface StackConfig {
  readonly stack: string;
  readonly compartmentId: string;
  readonly tier: Tier;
  readonly acceptCharges: boolean;
  readonly budgetSharedWith?: string;
  readonly adminCidrs: readonly string[];
  readonly clusterName: string;
  readonly clusterDomain: string;
  readonly distribution: DistributionName;
  readonly distributionVersion: string;
  readonly vcnCidr: string;
  readonly publicSubnetCidr: string;
  readonly privateSubnetCidr: string;
  readonly natGateway: boolean;
  readonly availabilityDomains: readonly number[];
  readonly ubuntuVersion: string;
  readonly sshPublicKey?: string;
  readonly sshPrivateKey?: string;
  /** Enabled platform components, by catalog name: the choices, then the addons. */
  readonly components: readonly string[];
  readonly componentValues: Readonly<Record<string, Record<string, unknown>>>;
  readonly acmeEmail: string;
  readonly gitops?: { readonly repoUrl: string; readonly path: string; readonly revision: string; readonly credential?: string };
  /** Scheduled etcd snapshots (k3s and RKE2 only). */
  readonly etcdBackup?: EtcdBackup;
  /** Keep every node on the kernel it runs. */
  readonly kernelHold: boolean;
  readonly nodes: readonly NodeSpec[];
}

export interface ConfigProblem {
  /** Full config key with path, e.g. `oci-k8s:nodes[1].ocpus`. */
  readonly key: string;
  readonly value: unknown;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      [
        `Invalid stack configuration; nothing was created. Fix ${problems.length === 1 ? "this value" : `these ${problems.length} values`} in Pulumi.<stack>.yaml:`,
        ...problems.map((p) => `  - ${p.key}: ${showValue(p.value)} ${p.message}`),
      ].join("\n"),
    );
    this.name = "ConfigError";
  }
}

function showValue(value: unknown): string {
  return value === undefined ? "(not set)" : JSON.stringify(value);
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    "",
  );
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (acc, part) => (acc !== null && typeof acc === "object" ? (acc as Record<PropertyKey, unknown>)[part] : undefined),
    raw,
  );
}

/** Reads the project's keys from Pulumi config as plain values, keeping unknown keys to report them. */
/** Whether the stack holds a config key encrypted (the language host passes the list of such keys). */
const isConfigSecret: (fullKey: string) => boolean =
  // Declared by @pulumi/pulumi's runtime/config.js but not in its typings.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@pulumi/pulumi/runtime/config").isConfigSecret;

export function readRawConfig(): { raw: Record<string, unknown>; problems: ConfigProblem[] } {
  const raw: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const prefix = `${PROJECT}:`;
  for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    const spec = (CONFIG_KEYS as Record<string, KeySpec>)[key];
    if (!spec) {
      problems.push({ key: fullKey, value: text, message: `is not a key of this program; ${allowed(Object.keys(CONFIG_KEYS))}` });
      continue;
    }
    if (spec.secret && !isConfigSecret(fullKey)) {
      problems.push({
        key: fullKey,
        value: "[plain text]",
        message: `must be encrypted: set it with pulumi config set --secret ${key} (it is a secret)`,
      });
      continue;
    }
    if (spec.type === "string") {
      raw[key] = text;
      continue;
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      problems.push({ key: fullKey, value: text, message: `must be a ${spec.type === "object" ? "YAML list" : spec.type}` });
    }
  }
  return { raw, problems };
}

/** Validates raw values (as read from the stack) into a complete, defaulted configuration. */
export function parseConfig(raw: Record<string, unknown>, stack: string): StackConfig {
  const result = rootSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const path = issue.path as PropertyKey[];
        const value = issue.code === "unrecognized_keys" ? issue.keys : valueAt(raw, path);
        const message =
          issue.code === "unrecognized_keys" ? `are not node fields; ${allowed(Object.keys(nodeSchema.shape))}` : issue.message;
        return { key: `${PROJECT}:${keyPath(path)}`, value, message };
      }),
    );
  }
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => ({ ...p, key: `${PROJECT}:${p.key}` })));
  return resolve(result.data, stack);
}

/** Reads and validates the current stack's configuration; throws one ConfigError naming every bad value. */
export function loadConfig(): StackConfig {
  const { raw, problems } = readRawConfig();
  if (problems.length > 0) throw new ConfigError(problems);
  return parseConfig(raw, pulumi.getStack());
}

function crossCheck(c: Parsed): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bad = (key: string, value: unknown, message: string) => problems.push({ key, value, message });

  if (c.tier === "always-free" && c.acceptCharges) {
    bad(
      "acceptCharges",
      true,
      "applies to payg tenancies only; an always-free tenancy cannot be billed and refuses what exceeds its limits",
    );
  }
  if (c.tier === "always-free" && c.natGateway) {
    bad(
      "natGateway",
      true,
      "is not available on an always-free tenancy (NAT gateway limit 0); set tier: payg or natGateway: false",
    );
  }

  c.adminCidrs.forEach((text, i) => {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") bad(`adminCidrs[${i}]`, text, parsed);
    else if (parsed.prefix < WIDEST_ADMIN_PREFIX && !c.allowWorldAdminAccess) {
      bad(
        `adminCidrs[${i}]`,
        text,
        `is wider than /${WIDEST_ADMIN_PREFIX}: it opens SSH and the Kubernetes API to a large part of the internet; use your own address/32 or your network (at most /${WIDEST_ADMIN_PREFIX}), or set allowWorldAdminAccess: true`,
      );
    }
  });

  const vcn = parseCidr(c.vcnCidr);
  if (typeof vcn === "string") bad("vcnCidr", c.vcnCidr, vcn);
  else if (vcn.prefix < 16 || vcn.prefix > 30) bad("vcnCidr", c.vcnCidr, "must be a /16 to /30 network (Oracle's VCN limits)");
  const subnets: [string, string][] = [
    ["publicSubnetCidr", c.publicSubnetCidr],
    ["privateSubnetCidr", c.privateSubnetCidr],
  ];
  const parsedSubnets = subnets.map(([key, text]) => {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") bad(key, text, parsed);
    else if (typeof vcn !== "string" && !cidrContains(vcn, parsed)) bad(key, text, `must lie inside vcnCidr ${c.vcnCidr}`);
    else if (parsed.prefix > 30) bad(key, text, "must be /30 or larger");
    return typeof parsed === "string" ? undefined : parsed;
  });
  const dist = DISTRIBUTIONS[c.distribution];
  if (c.distributionVersion && !dist.versionPattern.test(c.distributionVersion)) {
    bad("distributionVersion", c.distributionVersion, `is not a ${c.distribution} release like ${dist.defaultVersion}`);
  }
  if (typeof vcn !== "string") {
    for (const [what, cidr] of [
      ["pod", dist.podCidr],
      ["service", dist.serviceCidr],
    ]) {
      if (cidrsOverlap(vcn, parseCidr(cidr) as Cidr)) {
        bad("vcnCidr", c.vcnCidr, `overlaps ${c.distribution}'s ${what} network ${cidr}; choose another range`);
      }
    }
  }
  if (parsedSubnets[0] && parsedSubnets[1] && cidrsOverlap(parsedSubnets[0], parsedSubnets[1])) {
    bad("privateSubnetCidr", c.privateSubnetCidr, `must not overlap publicSubnetCidr ${c.publicSubnetCidr}`);
  }

  if (c.sshPrivateKey && !c.sshPublicKey) {
    bad("sshPrivateKey", "[secret]", "goes with sshPublicKey; set both, or neither to have a key generated");
  }
  if (new Set(c.availabilityDomains).size !== c.availabilityDomains.length) {
    bad("availabilityDomains", c.availabilityDomains, "must not repeat an availability domain");
  }

  checkNodes(c, bad);
  checkPlatform(c, bad);
  return problems;
}

/** Every base component except the choices not taken, then the addons. */
function enabledComponents(c: Parsed): string[] {
  const picked = new Set([c.ingressController, c.storage, c.monitoring]);
  const base = CATALOG.filter((e) => e.layer === "base" && (!e.choice || picked.has(e.name))).map((e) => e.name);
  return [...base, ...c.addons];
}

function checkPlatform(c: Parsed, bad: (key: string, value: unknown, message: string) => void): void {
  const seen = new Set<string>();
  c.addons.forEach((name, i) => {
    if (!ADDON_NAMES.includes(name)) bad(`addons[${i}]`, name, `is not an addon; ${allowed(ADDON_NAMES)}`);
    else if (seen.has(name)) bad(`addons[${i}]`, name, "is listed twice");
    seen.add(name);
  });
  const enabled = new Set(enabledComponents(c));
  for (const [name, values] of Object.entries(c.componentValues)) {
    if (!catalogEntry(name)) bad(`componentValues.${name}`, Object.keys(values), "names no component of the catalog");
    else if (!enabled.has(name))
      bad(`componentValues.${name}`, Object.keys(values), `sets values of ${name}, which this stack does not enable`);
  }
  for (const name of enabled) {
    const entry = catalogEntry(name);
    for (const path of entry?.requiredValues ?? []) {
      const value = valueAt(c.componentValues[name], path.split("."));
      if (value === undefined || value === "") bad(`componentValues.${name}.${path}`, value, `must be set to enable ${name}`);
    }
  }
  const dataNodes = c.nodes.filter((n) => n.dataVolumeGb !== undefined).length;
  if (c.storage === "longhorn" && dataNodes < 2) {
    bad(
      "storage",
      c.storage,
      `needs data volumes on two or more nodes to replicate (this stack has ${dataNodes}); use local-path`,
    );
  }
  if (c.gitopsRepoCredential && !c.gitopsRepoUrl) bad("gitopsRepoCredential", "[secret]", "goes with gitopsRepoUrl");
  if (c.etcdBackupBucket) {
    for (const key of ["etcdBackupEndpoint", "etcdBackupRegion"] as const) {
      if (!c[key]) bad(key, c[key], "must be set with etcdBackupBucket");
    }
    for (const key of ["etcdBackupAccessKey", "etcdBackupSecretKey"] as const) {
      if (!c[key]) bad(key, "(not set)", "must be set (with --secret) with etcdBackupBucket");
    }
  }
}

function checkNodes(c: Parsed, bad: (key: string, value: unknown, message: string) => void): void {
  if (c.nodes.length === 0) {
    bad("nodes", c.nodes, "must list at least one node with role: server");
    return;
  }
  const seen = new Set<string>();
  c.nodes.forEach((n, i) => {
    const at = `nodes[${i}]`;
    if (seen.has(n.name)) bad(`${at}.name`, n.name, "is used by an earlier node; node names must be unique");
    seen.add(n.name);
    const shape = SHAPES[n.shape];
    if (shape.kind === "flex") {
      const ocpus = n.ocpus ?? 1;
      const { min, max } = shape.ocpus;
      if (!Number.isInteger(ocpus) || ocpus < min || ocpus > max) {
        bad(`${at}.ocpus`, n.ocpus, `must be a whole number from ${min} to ${max} for ${n.shape}`);
      } else if (n.memoryGb !== undefined) {
        const lo = ocpus * shape.memoryPerOcpuGb.min;
        const hi = Math.min(ocpus * shape.memoryPerOcpuGb.max, shape.maxMemoryGb);
        if (!Number.isInteger(n.memoryGb) || n.memoryGb < lo || n.memoryGb > hi) {
          bad(`${at}.memoryGb`, n.memoryGb, `must be a whole number from ${lo} to ${hi} GB for ${ocpus} OCPU of ${n.shape}`);
        }
      }
    } else {
      const fixed = `${n.shape} has a fixed size (${shape.ocpus} OCPU, ${shape.memoryGb} GB); remove the key`;
      if (n.ocpus !== undefined && n.ocpus !== shape.ocpus) bad(`${at}.ocpus`, n.ocpus, fixed);
      if (n.memoryGb !== undefined && n.memoryGb !== shape.memoryGb) bad(`${at}.memoryGb`, n.memoryGb, fixed);
      if (n.role === "server") {
        bad(
          `${at}.role`,
          n.role,
          `needs ${A1_FLEX}: a ${shape.memoryGb} GB ${n.shape} cannot hold a control plane; use role: agent`,
        );
      }
      if (n.ingress) {
        bad(`${at}.ingress`, true, `is not allowed on ${n.shape}: micro nodes are tainted and run no ingress controller`);
      }
    }
    if (n.role === "etcd" && c.distribution === "kubeadm") {
      bad(
        `${at}.role`,
        n.role,
        "needs k3s or rke2: kubeadm's stacked etcd runs only on control-plane servers (three A1 servers, billed beyond 2 OCPU / 12 GB)",
      );
    }
    if (n.role === "etcd" && n.ingress) bad(`${at}.ingress`, true, "is not allowed on an etcd-only node: it runs no workloads");
    if (n.subnet === "private" && !c.natGateway) {
      bad(`${at}.subnet`, n.subnet, "needs natGateway: true (a private node has no other way to the internet)");
    }
  });

  const servers = c.nodes.filter((n) => n.role === "server").length;
  const members = c.nodes.filter((n) => n.role !== "agent").length;
  if (servers === 0)
    bad(
      "nodes",
      c.nodes.map((n) => n.name),
      "must include at least one node with role: server",
    );
  else if (members % 2 === 0) {
    bad(
      "nodes",
      `${members} etcd members (servers and etcd nodes)`,
      "must have an odd number of etcd members (1 or 3): an even count adds no fault tolerance",
    );
  }
  if (!c.nodes.some((n) => isIngress(n))) {
    bad(
      "nodes",
      c.nodes.map((n) => n.name),
      `must include an ${A1_FLEX} node that takes ingress traffic`,
    );
  }
  if (c.natGateway && !c.nodes.some((n) => n.subnet === "public")) {
    bad(
      "nodes",
      c.nodes.map((n) => n.name),
      "with natGateway on, nodes are private: give one node subnet: public to serve as the SSH jump host",
    );
  }
}

function isIngress(n: RawNode): boolean {
  return n.ingress ?? (n.role !== "etcd" && SHAPES[n.shape].kind === "flex");
}

function resolve(c: Parsed, stack: string): StackConfig {
  const nodes: NodeSpec[] = c.nodes.map((n) => {
    const shape = SHAPES[n.shape];
    const ocpus = shape.kind === "flex" ? (n.ocpus ?? 1) : shape.ocpus;
    const memoryGb = shape.kind === "flex" ? (n.memoryGb ?? ocpus * DEFAULT_MEMORY_PER_OCPU_GB) : shape.memoryGb;
    return {
      name: n.name,
      role: n.role,
      shape: n.shape,
      arch: shape.arch,
      ocpus,
      memoryGb,
      bootVolumeGb: n.bootVolumeGb,
      dataVolumeGb: n.dataVolumeGb,
      availabilityDomain: n.availabilityDomain,
      imageId: n.imageId,
      subnet: n.subnet ?? (c.natGateway ? "private" : "public"),
      ingress: isIngress(n),
      micro: shape.kind === "fixed",
    };
  });
  return {
    stack,
    compartmentId: c.compartmentId,
    tier: c.tier,
    acceptCharges: c.acceptCharges,
    budgetSharedWith: c.budgetSharedWith || undefined,
    adminCidrs: c.adminCidrs,
    clusterName: c.clusterName || defaultClusterName(stack),
    clusterDomain: c.clusterDomain,
    distribution: c.distribution,
    distributionVersion: c.distributionVersion || DISTRIBUTIONS[c.distribution].defaultVersion,
    vcnCidr: c.vcnCidr,
    publicSubnetCidr: c.publicSubnetCidr,
    privateSubnetCidr: c.privateSubnetCidr,
    natGateway: c.natGateway,
    availabilityDomains: c.availabilityDomains,
    ubuntuVersion: c.ubuntuVersion,
    sshPublicKey: c.sshPublicKey || undefined,
    sshPrivateKey: c.sshPrivateKey || undefined,
    components: enabledComponents(c),
    componentValues: c.componentValues,
    acmeEmail: c.acmeEmail,
    kernelHold: c.kernelHold,
    etcdBackup: {
      schedule: c.etcdBackupSchedule,
      retention: c.etcdBackupRetention,
      s3: c.etcdBackupBucket
        ? {
            endpoint: c.etcdBackupEndpoint,
            region: c.etcdBackupRegion,
            bucket: c.etcdBackupBucket,
            folder: c.clusterName || defaultClusterName(stack),
            accessKey: c.etcdBackupAccessKey,
            secretKey: c.etcdBackupSecretKey,
          }
        : undefined,
    },
    gitops: c.gitopsRepoUrl
      ? {
          repoUrl: c.gitopsRepoUrl,
          path: c.gitopsRepoPath || `clusters/${stack}`,
          revision: c.gitopsRepoRevision,
          credential: c.gitopsRepoCredential || undefined,
        }
      : undefined,
    nodes,
  };
}

/** The value a key takes when the stack leaves it out, or undefined for a required key. */
export function defaultOf(key: ConfigKey): unknown {
  const result = CONFIG_KEYS[key].schema.safeParse(undefined);
  return result.success ? result.data : undefined;
}

/** `oci-k8s-<stack>`, cut to a DNS label of 22 characters. */
export function defaultClusterName(stack: string): string {
  return `${PROJECT}-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 22)
    .replace(/-+$/, "");
}
