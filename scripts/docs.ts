/**
 * The parts of Pulumi.yaml and of the pages under docs/ that are derived from the code's tables,
 * so they can never drift: `npm run gen:docs` rewrites them, and test/project.test.ts fails when
 * they differ.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { ALLOWANCE, RESOURCE_KEYS } from "../infra/allowance";
import { CONFIG_KEYS, ConfigKey, defaultOf, HOST_FIELD_DOCS, NODE_FIELD_DOCS, SECTIONS } from "../config";
import { CATALOG, DEFAULT_CHOICES } from "../k8s/platform/catalog";
import { platformRequests } from "../k8s/platform/capacity";

export const ROOT = path.resolve(__dirname, "..");

/** Pulumi.yaml's `config:` map: every key Pulumi's project schema can type. */
export function pulumiConfigSection(): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const spec = CONFIG_KEYS[key];
    // Pulumi's project schema has no object type; such keys are validated by the program only.
    if (spec.type === "object") continue;
    // Nor can it declare an optional secret: the CLI copies a default into the stack as plain
    // text and refuses it ("must be encrypted as it's secret"), and a key without a default is
    // required of every stack ("is missing configuration values"). The program checks these
    // itself: an unset one is empty, one set in plain text is refused (config/index.ts).
    if ("secret" in spec && spec.secret === true) continue;
    const def = defaultOf(key);
    section[key] = {
      type: spec.type,
      ...("items" in spec ? { items: { type: spec.items } } : {}),
      description: spec.description,
      ...(def === undefined ? {} : { default: def }),
    };
  }
  return section;
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

/** One table per section of the configuration, in the order config/ declares them. */
export function configReference(): string {
  return SECTIONS.map(({ title, keys }) => {
    const rows = (Object.keys(keys) as ConfigKey[]).map((key) => {
      const spec = CONFIG_KEYS[key];
      const def = defaultOf(key);
      const type =
        spec.type === "array" && "items" in spec ? `${spec.items}[]` : spec.type === "object" ? "list of objects" : spec.type;
      const shown =
        key === "nodes"
          ? "one A1 server, see below"
          : key === "hosts"
            ? "none (build on Oracle Cloud)"
            : key === "compartmentId"
              ? "**required** on Oracle Cloud"
              : key === "alertEmail"
                ? "**required** on Oracle Cloud while `oracleBudget` is on"
                : key === "budgetAmount"
                  ? "**required** with `tier: payg` and `acceptCharges: true`; else unset"
                  : def === undefined
                    ? "**required**"
                    : `\`${JSON.stringify(def)}\``;
      return `| \`oci-k8s:${key}\` | ${type} | ${shown} | ${cell(spec.description)} |`;
    });
    return [`### ${title}`, "", "| key | type | default | meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
  }).join("\n\n");
}

export function allowanceTable(): string {
  const rows = RESOURCE_KEYS.map((k) => {
    const line = ALLOWANCE[k];
    const unit = line.unit ? ` ${line.unit}` : "";
    const free =
      line.free["always-free"] === line.free.payg
        ? `${line.free.payg}${unit}`
        : `${line.free["always-free"]} / ${line.free.payg}${unit}`;
    const beyond = !line.price
      ? line.limit.payg > line.free.payg
        ? "free"
        : "not possible"
      : `billed: ${line.price.source.split(": ").slice(1).join(": ")}`;
    return `| ${line.label} | ${free} | ${cell(beyond)} | ${cell(line.source)} |`;
  });
  return ["| resource | free (always-free / payg) | beyond it on payg | source |", "| --- | --- | --- | --- |", ...rows].join(
    "\n",
  );
}

function fieldTable(docs: Readonly<Record<string, string>>): string {
  const rows = Object.entries(docs).map(([field, doc]) => `| \`${field}\` | ${cell(doc)} |`);
  return ["| field | meaning |", "| --- | --- |", ...rows].join("\n");
}

export const nodeFields = () => fieldTable(NODE_FIELD_DOCS);
export const hostFields = () => fieldTable(HOST_FIELD_DOCS);

/** The catalog as a table; memory requests counted for the dev stack's three nodes (one A1, two micro). */
export function componentTable(): string {
  const dev = { all: 3, general: 1, ingress: 1, small: 2, withDataVolume: 1 };
  const defaults = new Set(Object.values(DEFAULT_CHOICES));
  const requests = platformRequests(CATALOG, dev);
  const rows = CATALOG.map((e, i) => {
    const memory = requests[i].generalMemoryMi + requests[i].smallMemoryMiPerNode * dev.small;
    const layer =
      e.layer === "addon" ? "addon" : e.choice ? `base (${e.choice}${defaults.has(e.name) ? ", default" : ""})` : "base";
    const source = e.helm ? `\`${e.helm.chart.replace(/^oci:\/\/.*\//, "oci: ")}\` ${e.helm.version}` : "objects";
    return `| \`${e.name}\` | ${layer} | ${source} | \`${e.namespace}\` | ${memory} Mi | ${cell(e.description)} |`;
  });
  return [
    "| component | layer | chart and version | namespace | memory requests (dev) | what it is for |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
export function replaceBlock(text: string, name: string, body: string, page = "README.md"): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${page} has no ${start} ... ${end} block`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

/** The dev stack's topology (written by the offline plan) as a Mermaid block. */
export function topologyBlock(): string {
  const file = path.join(ROOT, "docs", "topology-dev.mmd");
  return ["```mermaid", fs.readFileSync(file, "utf8").trimEnd(), "```"].join("\n");
}

/** The generated blocks of each page: the page, and each block's name and content. */
export const GENERATED: Readonly<Record<string, readonly (readonly [string, () => string])[]>> = {
  "docs/architecture.md": [["topology", topologyBlock]],
  "docs/configuration.md": [
    ["config-reference", configReference],
    ["node-fields", nodeFields],
    ["host-fields", hostFields],
  ],
  "docs/costs.md": [["allowance", allowanceTable]],
  "docs/platform.md": [["components", componentTable]],
};

/** A page with its generated blocks rewritten from the code. */
export function renderPage(page: string, current: string): string {
  return (GENERATED[page] ?? []).reduce((text, [name, body]) => replaceBlock(text, name, body(), page), current);
}

export function renderPulumiYaml(current: string): string {
  const head = current.slice(0, current.indexOf("\nconfig:\n") + 1);
  return head + stringify({ config: pulumiConfigSection() }, { lineWidth: 0 });
}

if (require.main === module) {
  const pages: [string, (text: string) => string][] = [
    ["Pulumi.yaml", renderPulumiYaml],
    ...Object.keys(GENERATED).map((page): [string, (text: string) => string] => [page, (text) => renderPage(page, text)]),
  ];
  for (const [file, render] of pages) {
    const full = path.join(ROOT, file);
    fs.writeFileSync(full, render(fs.readFileSync(full, "utf8")));
    console.log(`wrote ${file}`);
  }
}
