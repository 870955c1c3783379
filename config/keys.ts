/**
 * What every section of the configuration is made of: a key's spec (schema, Pulumi type,
 * description), the problem a bad value makes, and the error that names them all.
 */
import { RunError } from "@pulumi/pulumi";
import { z } from "zod";

export const PROJECT = "oci-k8s";

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

/** The values a table of keys parses to. */
export type Values<K extends Record<string, KeySpec>> = Readonly<z.output<z.ZodObject<{ [P in keyof K]: K[P]["schema"] }>>>;

export const allowed = (values: readonly string[]) => `allowed: ${values.join(", ")}`;

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]++;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length];
}

/** `did you mean X? ` for the closest candidate within a few edits (case aside), else "". */
export function suggest(word: string, among: readonly string[]): string {
  const scored = among.map((c) => [c, distance(word.toLowerCase(), c.toLowerCase())] as const).sort((x, y) => x[1] - y[1]);
  const best = scored[0];
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? `did you mean ${best[0]}? ` : "";
}

export const str = <S extends z.ZodType>(schema: S, description: string) => ({ schema, type: "string" as const, description });

export const bool = (def: boolean, description: string) => ({
  schema: z.boolean({ error: "must be true or false" }).default(def),
  type: "boolean" as const,
  description,
});

/** A node's (or host's) name: its hostname, Kubernetes node name and resource name. */
export const nodeName = () =>
  z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,29}$/, "must be a lowercase DNS label of 1-30 characters (a-z, 0-9, -) starting with a letter");

/** A secret string key: never declared in Pulumi.yaml, refused when the stack holds it in plain text. */
export const secret = <S extends z.ZodType>(schema: S, description: string) => ({
  schema,
  type: "string" as const,
  secret: true as const,
  description,
});

export interface ConfigProblem {
  /** Full config key with path, e.g. `oci-k8s:nodes[1].ocpus`. */
  readonly key: string;
  readonly value: unknown;
  readonly message: string;
}

/** Reports a bad value: its key (relative to the project), the value shown, and what is wrong. */
export type Bad = (key: string, value: unknown, message: string) => void;

/**
 * The problems of a stack's configuration, all of them. A RunError: Pulumi's Node.js runtime prints
 * a RunError's message alone, without the "unhandled exception" preamble and the stack trace it
 * prints for any other error (@pulumi/pulumi 3.248.0 cmd/run/run.js, uncaughtHandler).
 */
export class ConfigError extends RunError {
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

/** What an error shows in place of a secret's value. */
export const SECRET_NOT_SHOWN = "[secret, not shown]";

/** Anything that carries key material is never shown, whichever key it was given under. */
const KEY_MATERIAL = /PRIVATE KEY|\bghp_|\bgithub_pat_|\bK10[0-9a-f]{20,}/;

function showValue(value: unknown): string {
  if (value === undefined) return "(not set)";
  if (value === SECRET_NOT_SHOWN) return value;
  const text = JSON.stringify(value);
  return KEY_MATERIAL.test(text) ? SECRET_NOT_SHOWN : text;
}

export function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    "",
  );
}

export function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (acc, part) => (acc !== null && typeof acc === "object" ? (acc as Record<PropertyKey, unknown>)[part] : undefined),
    raw,
  );
}

/** `oci-k8s-<stack>`, cut to a DNS label of 22 characters. */
export function defaultClusterName(stack: string): string {
  return `${PROJECT}-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 22)
    .replace(/-+$/, "");
}
