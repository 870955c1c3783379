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
