/**
 * The policies of the oci-k8s policy pack, as plain objects so they can be unit-tested without
 * an engine (index.ts registers them). They check the plan Pulumi is about to apply, a second
 * line of defence behind the program's own config and budget checks.
 */
import type { ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { ALLOWANCE, ResourceKey, Tier, TIERS } from "../infra/allowance";
import { parseCidr, WIDEST_ADMIN_PREFIX } from "../infra/cidr";
import { SSH_PORT } from "../infra/ports";
import { A1_FLEX as A1, E2_MICRO as MICRO } from "../infra/shapes";
import { DISTRIBUTIONS } from "../k8s/bootstrap/distributions";
import { API_PORT } from "../k8s/ports";
import { kubeadmInitPrints, PRINTS_SECRETS, readStdin, SECRET_TEXT, stdinSecret, stringsIn } from "./commands";

/** Every port of the cluster that must never face a wide source: SSH, the API, and every node-to-node port of every distribution. */
const ADMIN_PORTS: readonly { protocol: "tcp" | "udp"; min: number; max: number }[] = [
  { protocol: "tcp", min: SSH_PORT, max: SSH_PORT },
  { protocol: "tcp", min: API_PORT, max: API_PORT },
  ...Object.values(DISTRIBUTIONS).flatMap((d) => d.ports),
];
const PROTOCOL_NAMES: Readonly<Record<string, "tcp" | "udp">> = { "6": "tcp", "17": "udp" };

/**
 * A source covering more than a /16: the internet, whole or split (0.0.0.0/1 + 128.0.0.0/1). It
 * fails closed: a CIDR source this check cannot read as a canonical IPv4 network (IPv6 `::/0`,
 * host bits set as in `1.2.3.4/0`) counts as wide. Another NSG as the source is not a CIDR, and a
 * source still unknown in a preview is left to the program's own config check.
 */
const isWide = (source: unknown, sourceType?: unknown) => {
  if (sourceType === "NETWORK_SECURITY_GROUP" || sourceType === "SERVICE_CIDR_BLOCK" || source === undefined) return false;
  const c = parseCidr(String(source));
  return typeof c === "string" || c.prefix < WIDEST_ADMIN_PREFIX;
};

export const policyConfigSchema = {
  properties: { tier: { type: "string" as const, enum: [...TIERS], default: "always-free" } },
};

interface Usage {
  resource: ResourceKey;
  used: number;
}

/** What a plan's resources use of each free-tier line. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- resource properties are untyped JSON
export function usageOf(resources: readonly { type: string; props: Record<string, any> }[]): Usage[] {
  const of = (type: string) => resources.filter((r) => r.type === type);
  const instances = of("oci:Core/instance:Instance");
  const a1 = instances.filter((i) => i.props.shape === A1);
  const gb = (v: unknown) => Number(v ?? 0);
  return [
    { resource: "a1Ocpus", used: a1.reduce((s, i) => s + Number(i.props.shapeConfig?.ocpus ?? 0), 0) },
    { resource: "a1MemoryGb", used: a1.reduce((s, i) => s + Number(i.props.shapeConfig?.memoryInGbs ?? 0), 0) },
    { resource: "microInstances", used: instances.filter((i) => i.props.shape === MICRO).length },
    {
      resource: "blockStorageGb",
      used:
        instances.reduce((s, i) => s + gb(i.props.sourceDetails?.bootVolumeSizeInGbs ?? 50), 0) +
        of("oci:Core/volume:Volume").reduce((s, v) => s + gb(v.props.sizeInGbs), 0),
    },
    { resource: "networkLoadBalancers", used: of("oci:NetworkLoadBalancer/networkLoadBalancer:NetworkLoadBalancer").length },
    { resource: "flexibleLoadBalancers", used: of("oci:LoadBalancer/loadBalancer:LoadBalancer").length },
    { resource: "natGateways", used: of("oci:Core/natGateway:NatGateway").length },
    { resource: "vcns", used: of("oci:Core/vcn:Vcn").length },
  ];
}

export const freeTierBudget: StackValidationPolicy = {
  name: "free-tier-budget",
  description: "The stack stays inside the tenancy's free allowance (policy config `tier`).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const tier = (args.getConfig<{ tier?: Tier }>().tier ?? "always-free") as Tier;
    const instances = args.resources.filter((r) => r.type === "oci:Core/instance:Instance");
    for (const i of instances) {
      if (![A1, MICRO].includes(i.props.shape))
        reportViolation(`${i.name}: shape ${i.props.shape} is not in the free tier (${A1}, ${MICRO})`, i.urn);
    }
    for (const lb of args.resources.filter((r) => r.type === "oci:LoadBalancer/loadBalancer:LoadBalancer")) {
      const shape = lb.props.shapeDetails ?? {};
      if (lb.props.shape !== "flexible" || shape.minimumBandwidthInMbps !== 10 || shape.maximumBandwidthInMbps !== 10) {
        reportViolation(`${lb.name}: only a flexible load balancer at 10 Mbps is free`, lb.urn);
      }
    }
    for (const u of usageOf(args.resources)) {
      const line = ALLOWANCE[u.resource];
      const allowed = line.free[tier];
      if (u.used > allowed)
        reportViolation(`${line.label}: ${u.used}${line.unit ? ` ${line.unit}` : ""} used, ${allowed} allowed on ${tier}`);
    }
  },
};

/** Which plan figure each quota the program writes caps (infra/guards.ts). */
const QUOTA_CAPS: Readonly<Record<string, ResourceKey>> = {
  "standard-a1-core-count": "a1Ocpus",
  "standard-a1-core-regional-count": "a1Ocpus",
  "standard-a1-memory-count": "a1MemoryGb",
  "standard-a1-memory-regional-count": "a1MemoryGb",
  "standard-e2-micro-core-count": "microInstances",
  "total-storage-gb": "blockStorageGb",
};
const SET_STATEMENT = /^set \S+ quota (\S+) to (\d+) in /;

export const quotaMatchesPlan: StackValidationPolicy = {
  name: "oracle-quota-matches-plan",
  description: "A compartment quota the stack creates allows no more than the plan's own instances and volumes use.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const used = new Map(usageOf(args.resources).map((u) => [u.resource, u.used]));
    for (const quota of args.resources.filter((r) => r.type === "oci:Limits/quota:Quota")) {
      for (const statement of (quota.props.statements ?? []) as string[]) {
        const m = SET_STATEMENT.exec(statement);
        const cap = m && QUOTA_CAPS[m[1]];
        if (!m || !cap) continue;
        if (Number(m[2]) > used.get(cap)!)
          reportViolation(`${quota.name}: "${statement}" allows more than the plan uses (${used.get(cap)})`, quota.urn);
      }
    }
  },
};

const coversAdminPort = (protocol: string, range?: { min?: number; max?: number }) =>
  protocol === "all" ||
  ADMIN_PORTS.some(
    (p) => PROTOCOL_NAMES[protocol] === p.protocol && (range?.min ?? 1) <= p.max && p.min <= (range?.max ?? 65535),
  );

export const noWorldAdminPorts: ResourceValidationPolicy = {
  name: "no-world-admin-ports",
  description: `SSH, the Kubernetes API and every cluster port are never open to a source wider than /${WIDEST_ADMIN_PREFIX} (0.0.0.0/0 or split halves of it).`,
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const world = (
      protocol: string,
      source: unknown,
      sourceType: unknown,
      range: { min?: number; max?: number } | undefined,
      what: string,
    ) => {
      if (isWide(source, sourceType) && coversAdminPort(String(protocol), range)) {
        reportViolation(`${what} opens a cluster port (SSH, the API, kubelet, etcd...) to ${source}; allow admin CIDRs only`);
      }
    };
    if (
      args.type === "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule" &&
      args.props.direction === "INGRESS"
    ) {
      world(
        args.props.protocol,
        args.props.source,
        args.props.sourceType,
        args.props.tcpOptions?.destinationPortRange ?? args.props.udpOptions?.destinationPortRange,
        `rule ${args.name}`,
      );
    }
    if (args.type === "oci:Core/securityList:SecurityList" || args.type === "oci:Core/defaultSecurityList:DefaultSecurityList") {
      for (const rule of args.props.ingressSecurityRules ?? [])
        world(rule.protocol, rule.source, rule.sourceType, rule.tcpOptions ?? rule.udpOptions, `security list ${args.name}`);
    }
  },
};

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

export const pinnedChartVersions: ResourceValidationPolicy = {
  name: "pinned-chart-versions",
  description: "Every Helm release names an exact chart version.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.type !== "kubernetes:helm.sh/v3:Release") return;
    const version = args.props.version;
    if (typeof version !== "string" || !EXACT_VERSION.test(version)) {
      reportViolation(`release ${args.name}: chart version ${JSON.stringify(version)} is not an exact version`);
    }
  },
};

/** Fields of a command that may hold a secret: its SSH connection (the key it logs in with) and its stdin (how secrets travel). */
const SECRET_CARRIERS = new Set(["connection", "stdin"]);
/** A command's command lines. */
const LINES = ["create", "update", "delete"];

export const secretsStaySecret: ResourceValidationPolicy = {
  name: "secrets-stay-secret",
  description:
    "No key or token in a command's fields or in user data; commands whose stdin or stdout is secret log nothing and keep their output secret.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const exposed = (what: string, text: unknown) => {
      if (typeof text === "string" && SECRET_TEXT.some((re) => re.test(text)))
        reportViolation(`${args.name}: ${what} contains a private key or token`);
    };
    if (args.type === "command:remote:Command" || args.type === "command:local:Command") {
      // Every field but the two carriers, whatever pulumi-command adds: command lines (create,
      // update, delete), environment, triggers, dir, interpreter... (pulumi-command 1.2.1).
      for (const [field, value] of Object.entries(args.props as Record<string, unknown>)) {
        if (SECRET_CARRIERS.has(field)) continue;
        for (const [at, text] of stringsIn(value, field))
          exposed(LINES.includes(field) ? `the ${field} command line` : at.replace(/^environment\./, "environment "), text);
      }
      const lines = LINES.map((f) => args.props[f]).filter((v): v is string => typeof v === "string");
      const stdin = typeof args.props.stdin === "string" ? args.props.stdin : undefined;
      const script = stdin === undefined ? undefined : readStdin(stdin).script;
      for (const text of [...lines, ...(script === undefined ? [] : [script])]) {
        const init = kubeadmInitPrints(text);
        if (init) reportViolation(`${args.name}: ${init}`);
      }
      const stdoutSecret = (args.opts.additionalSecretOutputs ?? []).includes("stdout");
      const prints = lines.some((line) => PRINTS_SECRETS.some((re) => re.test(line)));
      if (prints && !stdoutSecret) reportViolation(`${args.name}: prints secrets but its stdout is not secret`);
      const secretIn = stdin === undefined ? undefined : stdinSecret(stdin);
      // pulumi-command's `logging` defaults to stdoutAndStderr: the output goes to the engine's
      // diagnostics and the deploy log. A failure still quotes the output in its error.
      if (args.props.logging !== "none") {
        if (prints || stdoutSecret) reportViolation(`${args.name}: prints secrets but logs its output (set logging: "none")`);
        if (secretIn)
          reportViolation(`${args.name}: its stdin carries a secret (${secretIn}) but it logs its output (set logging: "none")`);
      }
    }
    if (args.type === "oci:Core/instance:Instance") {
      const userData = args.props.metadata?.user_data;
      // The node's own SSH host key is meant to be there (cloud-init's ssh_keys installs it, the
      // program pins it); any other key or token in user data is a leak.
      exposed(
        "user_data",
        typeof userData === "string" ? withoutHostKeys(Buffer.from(userData, "base64").toString("utf8")) : undefined,
      );
    }
  },
};

/** A cloud-config without its `ssh_keys` host keys (the one private key user data may carry). */
function withoutHostKeys(cloudConfig: string): string {
  return cloudConfig.replace(/^ {2}(ed25519|ecdsa|rsa)_private: \|-?\n( {4}.*\n)+/gm, "");
}

export const POLICIES = [freeTierBudget, quotaMatchesPlan, noWorldAdminPorts, pinnedChartVersions, secretsStaySecret];

export type { ReportViolation };
