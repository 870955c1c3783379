/**
 * Every test that needs something of the machine (a program, root, a built binary) goes through the
 * one skip helper of test/tools.ts (`missing`, `requireTool`, `requireRoot`, `requireFile`): outside
 * CI it skips with what to install, under CI it fails. A test that throws its own "is missing" or
 * skips by itself makes `npm test` red on a fresh machine, or hides a test from CI.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { requireFile } from "../tools";
const ROOT = path.resolve(__dirname, "../..");

/** Test sources, the helper itself and the engine suite (run only after its build, by .ci/run) apart. */
function testSources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : testSources(p);
    return /\.ts$/.test(e.name) ? [p] : [];
  });
}

const EXEMPT = new Set(["test/tools.ts", "test/engine/engine.ts"]);
const BYPASSES: [RegExp, string][] = [
  [/throw new Error\([^)]*\b(is missing|is not installed|not found)\b/, "throws its own missing-tool error"],
  [/\b(this|ctx)\.skip\(\)(?![^\n]*\/\/ not a tool:)/, "skips by itself (say `// not a tool: why` if it is no tool)"],
  [/existsSync\([^)]*tools\/(etcd|engine)\/bin/, "checks a built tool itself"],
];

describe("tests that need a tool go through the skip helper", () => {
  it("no test throws its own missing-tool error, skips by itself or checks a built tool without test/tools.ts", () => {
    const offenders: string[] = [];
    for (const file of ["test", "policy", "examples"].flatMap((d) => testSources(path.join(ROOT, d)))) {
      const rel = path.relative(ROOT, file);
      if (EXEMPT.has(rel)) continue;
      fs.readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const [pattern, what] of BYPASSES)
            if (pattern.test(line)) offenders.push(`${rel}:${i + 1} ${what}: ${line.trim()}`);
        });
    }
    assert.deepEqual(offenders, []);
  });

  it("the helper skips outside CI with the install hint, and fails under CI", () => {
    let skipped = false;
    const ctx = {
      skip: () => {
        skipped = true;
        throw new Error("skip");
      },
    } as unknown as Mocha.Context;
    const ci = process.env.CI;
    const warn = console.warn;
    try {
      delete process.env.CI;
      console.warn = () => undefined;
      assert.throws(() => requireFile(ctx, "/nonexistent/tools/etcd/bin/etcd", "run tools/etcd/build.sh"), /skip/);
      assert.ok(skipped);
      process.env.CI = "true";
      assert.throws(
        () => requireFile(ctx, "/nonexistent/tools/etcd/bin/etcd", "run tools/etcd/build.sh"),
        /\/nonexistent\/tools\/etcd\/bin\/etcd is missing: run tools\/etcd\/build\.sh/,
      );
    } finally {
      console.warn = warn;
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
  });
});
