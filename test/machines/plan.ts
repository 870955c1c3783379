/** The registered commands of a stack, in the order the engine would run them. */
import { Registered, RunResult } from "../../scripts/mock-program";

export const COMMAND = "command:remote:Command";

/**
 * The stack's remote commands in an order the engine may run them: each after every command it
 * depends on (its dependencies, and its parent's), ties in registration order.
 */
export function engineOrder(plan: RunResult): Registered[] {
  const commands = plan.resources.filter((r) => r.type === COMMAND);
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const needs = (r: Registered): Set<string> => {
    const out = new Set<string>();
    const visit = (urn: string, seen: Set<string>) => {
      if (seen.has(urn)) return;
      seen.add(urn);
      const dep = byUrn.get(urn);
      if (!dep) return;
      if (dep.type === COMMAND) out.add(dep.urn);
      else for (const d of [...dep.dependencies, dep.parent].filter(Boolean)) visit(d, seen);
    };
    for (const d of r.dependencies) visit(d, new Set());
    return out;
  };
  const done = new Set<string>();
  const ordered: Registered[] = [];
  while (ordered.length < commands.length) {
    const next = commands.find((c) => !done.has(c.urn) && [...needs(c)].every((d) => done.has(d)));
    if (!next) throw new Error("the commands' dependencies form a cycle");
    ordered.push(next);
    done.add(next.urn);
  }
  return ordered;
}

/** The command's registered stdin, exactly ("" when it has none: pulumi-command then sends none). */
export const stdinOf = (c: Registered): string => (typeof c.inputs.stdin === "string" ? c.inputs.stdin : "");

/** What the engine does to a command in an update: pulumi-command v1.2.1's create, update and delete. */
export interface Step {
  readonly op: "create" | "update" | "delete";
  /** The command as registered now, or (a delete) as the last update left it in the state. */
  readonly command: Registered;
  /** What runs: create, update (or create when it has none), or delete. */
  readonly run: string;
  readonly stdin: string;
  /** The connection it runs over: the state's where the new one is not applied (deletes, ignoreChanges). */
  readonly connection: Registered["inputs"]["connection"];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const INPUTS = ["connection", "create", "update", "delete", "stdin", "environment", "logging"];

/**
 * The commands an update from `before` (the state) to `after` (the program now) runs, in an order
 * the engine may run them: a new command is created; a changed `triggers` replaces it (the old
 * one's delete first with deleteBeforeReplace, else at the end); any other changed input, less its
 * ignoreChanges, updates it (its `update`, or `create`); a command gone from the program is deleted
 * at the end, dependents first. Unchanged commands do not run.
 */
export function updateSteps(before: RunResult, after: RunResult): Step[] {
  const old = new Map(before.resources.filter((r) => r.type === COMMAND).map((r) => [r.name, r]));
  const now = new Set(after.resources.filter((r) => r.type === COMMAND).map((r) => r.name));
  const deleteOf = (o: Registered): Step[] =>
    o.inputs.delete
      ? [{ op: "delete", command: o, run: o.inputs.delete, stdin: stdinOf(o), connection: o.inputs.connection }]
      : [];
  const steps: Step[] = [];
  const atEnd: Step[] = [];
  for (const c of engineOrder(after)) {
    const o = old.get(c.name);
    const create: Step = { op: "create", command: c, run: c.inputs.create, stdin: stdinOf(c), connection: c.inputs.connection };
    if (!o) {
      steps.push(create);
    } else if (!same(o.inputs.triggers, c.inputs.triggers)) {
      if (c.deleteBeforeReplace) steps.push(...deleteOf(o), create);
      else {
        steps.push(create);
        atEnd.push(...deleteOf(o));
      }
    } else if (INPUTS.some((k) => !c.ignoreChanges.includes(k) && !same(o.inputs[k], c.inputs[k]))) {
      const kept = (k: string) => (c.ignoreChanges.includes(k) ? o : c).inputs[k];
      steps.push({
        op: "update",
        command: c,
        run: (kept("update") as string | undefined) ?? (kept("create") as string),
        stdin: typeof kept("stdin") === "string" ? (kept("stdin") as string) : "",
        connection: kept("connection") as Registered["inputs"]["connection"],
      });
    }
  }
  const gone = engineOrder(before)
    .filter((o) => !now.has(o.name))
    .reverse();
  return [...steps, ...atEnd, ...gone.flatMap(deleteOf)];
}
