/**
 * The offline plan: runs the program under Pulumi's mock runtime with a stack's config (no
 * credentials, no cloud) and renders what it would create.
 *
 *   npm run plan -- dev                  report: nodes, free-tier usage, open ports, platform
 *   npm run plan -- dev --file x.yaml    the same for another stack file (its diagram is written beside it)
 *   npm run snapshot:update              rewrites test/snapshots/<stack>.plan.yaml and docs/topology-<stack>.mmd
 *
 * Exits 1 (printing the budget table) when the stack is over its free allowance.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { formatPlaceholders, placeholderProblems, PROJECT } from "../config";
import { formatUsageTable, UsageLine } from "../infra/budget";
import { catalogEntry } from "../k8s/platform/catalog";
import { INGRESS_LABEL } from "../k8s/labels";
import { NodeOutput } from "../outputs";
import { formatTable } from "../table";
import { readStackFile, Registered, ROOT, RunResult, runProgram, stackConfigFrom } from "./mock-program";

export const STACKS = ["dev", "prd"] as const;
export const snapshotPath = (stack: string) => path.join(ROOT, "test", "snapshots", `${stack}.plan.yaml`);
export const diagramPath = (stack: string) => path.join(ROOT, "docs", `topology-${stack}.mmd`);

export async function planStack(stack: string, file = path.join(ROOT, `Pulumi.${stack}.yaml`)): Promise<RunResult> {
  return runProgram(stack, stackConfigFrom(file));
}

/** A stack file's project keys without their `oci-k8s:` prefix (the names the program's config reads). */
function projectValues(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => !k.includes(":") || k.startsWith(`${PROJECT}:`))
      .map(([k, v]) => [k.replace(`${PROJECT}:`, ""), v]),
  );
}

/** Long values (scripts, user data) become a length and hash; the files they come from are in the diff anyway. */
function shorten(value: unknown): unknown {
  if (typeof value === "string") {
    return value.length > 240
      ? `<${value.length} chars, sha256:${createHash("sha256").update(value).digest("hex").slice(0, 16)}>`
      : value;
  }
  if (Array.isArray(value)) return value.map(shorten);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shorten(v)]));
  return value;
}

/** The reviewable plan: every resource with its inputs (secrets masked) and what it waits for. */
export function renderSnapshot(result: RunResult): string {
  const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
  const label = (urn: string) => {
    const r = byUrn.get(urn);
    return r ? `${r.type}::${r.name}` : urn;
  };
  const resources = [...result.resources]
    .sort((a, b) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`))
    .map((r: Registered) => ({
      resource: `${r.type}::${r.name}`,
      ...(r.parent && byUrn.has(r.parent) ? { parent: label(r.parent) } : {}),
      inputs: shorten(
        Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, r.secretInputs.includes(k) ? "[secret]" : v])),
      ),
      ...(r.dependencies.length ? { dependsOn: [...new Set(r.dependencies.map(label))].sort() } : {}),
      ...(r.ignoreChanges.length ? { ignoreChanges: [...r.ignoreChanges].sort() } : {}),
    }));
  const outputs = Object.fromEntries(
    Object.entries(result.outputs).map(([k, v]) => [k, result.secretOutputs.includes(k) ? "[secret]" : shorten(v)]),
  );
  return stringify({ resources, outputs }, { lineWidth: 0, sortMapEntries: true });
}

/** A Mermaid flowchart of the stack: internet, load balancer, subnets, nodes, platform. */
export function renderDiagram(stack: string, result: RunResult): string {
  const nodes = result.outputs.nodes as NodeOutput[];
  const subnets = result.outputs.subnetIds as { public: string; private?: string };
  const id = (s: string) => s.replace(/[^A-Za-z0-9]/g, "_");
  const isPrivate = (n: NodeOutput) => !n.publicIp;
  const lines = [
    "flowchart TB",
    `  internet(("internet"))`,
    `  admins(["admin CIDRs"])`,
    `  nlb["Network Load Balancer<br/>80, 443 → ingress nodes · 6443 → servers"]`,
    "  internet -->|80, 443| nlb",
    "  admins -->|6443| nlb",
    `  subgraph vcn["VCN (${stack})"]`,
    `    subgraph public["public subnet"]`,
    ...nodes
      .filter((n) => !isPrivate(n))
      .map((n) => `      ${id(n.name)}["${n.name}<br/>${n.role} · ${n.arch} · ${n.ocpus} OCPU · ${n.memoryGb} GB"]`),
    "    end",
    ...(subnets.private
      ? [
          `    subgraph private["private subnet (NAT gateway)"]`,
          ...nodes
            .filter(isPrivate)
            .map((n) => `      ${id(n.name)}["${n.name}<br/>${n.role} · ${n.arch} · ${n.ocpus} OCPU · ${n.memoryGb} GB"]`),
          "    end",
        ]
      : []),
    "  end",
    ...nodes.filter((n) => n.role === "server").map((n) => `  nlb -->|6443| ${id(n.name)}`),
    ...nodes.filter((n) => n.labels[INGRESS_LABEL] === "true").map((n) => `  nlb -->|80, 443| ${id(n.name)}`),
    "  admins -->|22| public",
  ];
  const components = (result.outputs.components as { name: string; version: string }[]) ?? [];
  lines.push(`  platform[["platform: ${components.map((c) => c.name).join(", ")}"]]`);
  const firstServer = nodes.find((n) => n.role === "server");
  if (firstServer) lines.push(`  ${id(firstServer.name)} -.-> platform`);
  return `${lines.join("\n")}\n`;
}

/** A report table: every column left-aligned, no trailing spaces. */
function table(rows: string[][]): string {
  return formatTable(rows, rows[0].length)
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n");
}

/** The platform's table, the same for both kinds of machines. */
function platformTable(result: RunResult): string {
  const components = result.outputs.components as { name: string; version: string; namespace: string }[];
  return table([
    ["component", "version", "namespace", "what it is for"],
    ...components.map((c) => [c.name, c.version, c.namespace, catalogEntry(c.name)?.description ?? ""]),
  ]);
}

/** A stack of existing hosts: its hosts and platform (the ports each host opens are in the program's log above). */
function renderHostsReport(stack: string, result: RunResult): string {
  const nodes = result.outputs.nodes as NodeOutput[];
  return [
    `Plan of stack ${stack} on existing hosts (offline, mock runtime; nothing on Oracle Cloud)`,
    "",
    "Hosts",
    table([
      ["name", "role", "arch", "memory", "address", "private IP"],
      ...nodes.map((n) => [n.name, n.role, n.arch, `${n.memoryGb} GB`, n.publicIp, n.privateIp]),
    ]),
    "",
    "Platform",
    platformTable(result),
    "",
  ].join("\n");
}

export function renderReport(stack: string, result: RunResult): string {
  if (result.outputs.freeTierUsage === undefined) return renderHostsReport(stack, result);
  const nodes = result.outputs.nodes as NodeOutput[];
  const rules = result.resources.filter(
    (r) => r.type === "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
  );
  const nsgName = new Map(
    result.resources
      .filter((r) => r.type === "oci:Core/networkSecurityGroup:NetworkSecurityGroup")
      .map((r) => [`${r.name}-id`, r.name.replace(/^nsg-/, "")]),
  );
  const protocols: Record<string, string> = { "1": "icmp", "6": "tcp", "17": "udp", all: "all" };
  const ports = (r: Registered) => {
    const range = (r.inputs.tcpOptions ?? r.inputs.udpOptions)?.destinationPortRange;
    return range
      ? range.min === range.max
        ? `${range.min}`
        : `${range.min}-${range.max}`
      : r.inputs.icmpOptions
        ? `type ${r.inputs.icmpOptions.type}/${r.inputs.icmpOptions.code}`
        : "all";
  };
  const peer = (r: Registered) => {
    const value = r.inputs.direction === "INGRESS" ? r.inputs.source : r.inputs.destination;
    return nsgName.get(value) ? `nsg ${nsgName.get(value)}` : value;
  };
  return [
    `Plan of stack ${stack} (offline, mock runtime: IDs and addresses are placeholders)`,
    "",
    "Nodes",
    table([
      ["name", "role", "shape", "arch", "OCPU", "memory", "AD"],
      ...nodes.map((n) => [
        n.name,
        n.role,
        n.shape ?? "-",
        n.arch,
        String(n.ocpus ?? "-"),
        `${n.memoryGb} GB`,
        n.availabilityDomain ?? "-",
      ]),
    ]),
    "",
    "Free-tier usage",
    formatUsageTable(result.outputs.freeTierUsage as UsageLine[]),
    "",
    ...guardsSection(result),
    "Open ports (network security group rules)",
    table([
      ["nsg", "direction", "protocol", "ports", "peer", "why"],
      ...rules.map((r) => [
        nsgName.get(r.inputs.networkSecurityGroupId) ?? "?",
        r.inputs.direction.toLowerCase(),
        protocols[r.inputs.protocol] ?? r.inputs.protocol,
        ports(r),
        peer(r),
        r.inputs.description,
      ]),
    ]),
    "",
    "Platform",
    platformTable(result),
    "",
  ].join("\n");
}

/** What Oracle will enforce: the quota's statements and the budget's alert (the compartment's path is read from Oracle at deploy). */
function guardsSection(result: RunResult): string[] {
  const quota = result.resources.find((r) => r.type === "oci:Limits/quota:Quota");
  const budget = result.resources.find((r) => r.type === "oci:Budget/budget:Budget");
  const alert = result.resources.find((r) => r.type === "oci:Budget/rule:Rule");
  return [
    "Oracle's guards (the compartment's path here is a placeholder; Oracle's is read at deploy)",
    ...(quota ? (quota.inputs.statements as string[]).map((s) => `  ${s}`) : ["  quota: none (oracleQuota: false)"]),
    budget && alert
      ? `  budget: ${budget.inputs.amount} a month; alert at ${alert.inputs.threshold} of actual spend to ${alert.inputs.recipients}`
      : "  budget: none (oracleBudget: false)",
    "",
  ];
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "--update-snapshots") {
    fs.mkdirSync(path.dirname(snapshotPath("dev")), { recursive: true });
    fs.mkdirSync(path.dirname(diagramPath("dev")), { recursive: true });
    for (const stack of STACKS) {
      const result = await planStack(stack);
      if (result.error) throw result.error;
      fs.writeFileSync(snapshotPath(stack), renderSnapshot(result));
      fs.writeFileSync(diagramPath(stack), renderDiagram(stack, result));
      console.log(`wrote ${path.relative(ROOT, snapshotPath(stack))} and ${path.relative(ROOT, diagramPath(stack))}`);
    }
    return 0;
  }
  const stack = argv[0];
  if (!stack) {
    console.error("usage: npm run plan -- <stack> [--file Pulumi.<stack>.yaml]");
    return 2;
  }
  const fileAt = argv.indexOf("--file");
  const file = fileAt >= 0 ? path.resolve(argv[fileAt + 1]) : path.join(ROOT, `Pulumi.${stack}.yaml`);
  const stackFile = readStackFile(file, { stack });
  if (stackFile.encrypted.length > 0) {
    console.log(
      stackFile.decrypted
        ? `Encrypted values decrypted with the Pulumi CLI: ${stackFile.encrypted.join(", ")}`
        : `Encrypted values not decrypted (${stackFile.note}); each is taken as a valid secret of its key, unchecked: ${stackFile.encrypted.join(", ")}`,
    );
  }
  // The examples' placeholders: pulumi preview and up refuse them; the offline plan renders the stack and
  // says so twice: the program's warning above the report, and this block under it.
  const placeholders = placeholderProblems(projectValues(stackFile.config));
  const shown = path.relative(process.cwd(), file);
  const edit = formatPlaceholders(placeholders, shown.startsWith("..") ? file : shown);
  const result = await runProgram(stack, stackFile.config, { log: "print" });
  if (result.error) {
    console.error(result.error.message);
    return 1;
  }
  process.stdout.write(renderReport(stack, result));
  if (placeholders.length > 0) console.log(`\n${edit}`);
  if (result.outputs.freeTierUsage === undefined) return 0;
  // A stack file of the user's own gets its diagram beside it, never in the checkout's docs/.
  const diagram = fileAt >= 0 ? path.join(path.dirname(file), `topology-${stack}.mmd`) : diagramPath(stack);
  fs.mkdirSync(path.dirname(diagram), { recursive: true });
  fs.writeFileSync(diagram, renderDiagram(stack, result));
  console.log(`Topology diagram: ${path.relative(process.cwd(), diagram)}`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
