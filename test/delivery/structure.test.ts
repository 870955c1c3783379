/**
 * The house rules of the code's layout, measured from the sources: no import cycle, each layer
 * imports only the layers below it, a thin entry, and no file or function too long to read.
 *
 *   index.ts ─► stack/ ─► config/ ─► infra/ (Oracle Cloud) | hosts/ (existing machines) ─► node-prep/
 *                                    k8s/ (Kubernetes on plain hosts)
 *
 * infra/ and k8s/ never import each other, nor anything above them; hosts/ may use k8s/'s port
 * table (the firewall opens exactly it), never infra/.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { ROOT } from "../../scripts/mock-program";

/** Program sources: everything the program, its tools and its policy pack are built from (not tests). */
const SOURCE_DIRS = ["config", "infra", "k8s", "stack", "scripts", "policy", "hosts", "node-prep"];
const SOURCE_FILES = ["index.ts", "outputs.ts", "table.ts"];

function walk(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : walk(rel);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [rel] : [];
  });
}

const sources = [...SOURCE_FILES, ...SOURCE_DIRS.flatMap(walk)].sort();

/** Every relative import of a file (type-only ones too), as repository paths. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const specs: string[] = [];
  src.forEachChild((node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      specs.push((node.moduleSpecifier as ts.StringLiteral).text);
    }
  });
  return specs
    .filter((s) => s.startsWith("."))
    .map((s) => {
      const base = path.normalize(path.join(path.dirname(file), s));
      const hit = [`${base}.ts`, path.join(base, "index.ts")].find((c) => fs.existsSync(path.join(ROOT, c)));
      assert.ok(hit, `${file} imports ${s}, which is no file`);
      return hit;
    });
}

const graph = new Map(sources.map((f) => [f, importsOf(f)]));
const layer = (file: string) => (file.includes("/") ? file.split("/")[0] : file);

/** Which layers each layer may import (besides itself). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  "index.ts": ["config", "infra", "hosts", "k8s", "node-prep", "stack", "outputs.ts"],
  stack: ["config", "infra", "hosts", "k8s", "node-prep", "outputs.ts", "table.ts"],
  config: ["infra", "k8s", "hosts"],
  infra: ["node-prep", "table.ts"],
  hosts: ["k8s", "node-prep", "table.ts"],
  k8s: ["table.ts"],
  "node-prep": [],
  scripts: ["config", "infra", "hosts", "k8s", "node-prep", "stack", "outputs.ts", "table.ts"],
  policy: ["infra", "k8s"],
  "outputs.ts": [],
  "table.ts": [],
};

describe("the code's layout", () => {
  it("has no import cycle", () => {
    const state = new Map<string, "visiting" | "done">();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "visiting") {
        cycles.push([...trail.slice(trail.indexOf(f)), f].join(" -> "));
        return;
      }
      state.set(f, "visiting");
      for (const next of graph.get(f) ?? []) visit(next, [...trail, f]);
      state.set(f, "done");
    };
    sources.forEach((f) => visit(f, []));
    assert.deepEqual(cycles, []);
  });

  it("imports only downwards: infra/ and k8s/ never import each other, nor config/ or stack/", () => {
    const wrong = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((i) => layer(i) !== layer(file) && !(ALLOWED[layer(file)] ?? []).includes(layer(i)))
        .map((i) => `${file} -> ${i}`),
    );
    assert.deepEqual(wrong, []);
    assert.ok(graph.size > 60, `only ${graph.size} sources found`);
  });

  it("keeps the program's tools out of the tests", () => {
    const intoTests = [...graph].flatMap(([file, imports]) =>
      imports.filter((i) => i.startsWith("test/")).map((i) => `${file} -> ${i}`),
    );
    assert.deepEqual(intoTests, []);
  });

  it("keeps index.ts under 120 lines, every source file under 400 and every function under 80", () => {
    const lines = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8").split("\n").length;
    assert.ok(lines("index.ts") < 120, `index.ts has ${lines("index.ts")} lines`);
    assert.deepEqual(
      sources.filter((f) => lines(f) > 400).map((f) => `${f}: ${lines(f)} lines`),
      [],
    );
    const long: string[] = [];
    for (const file of sources) {
      const src = ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && "body" in node && node.body) {
          const from = src.getLineAndCharacterOfPosition(node.getStart()).line;
          const to = src.getLineAndCharacterOfPosition(node.getEnd()).line;
          if (to - from + 1 > 80) long.push(`${file}:${from + 1} (${to - from + 1} lines)`);
        }
        node.forEachChild(visit);
      };
      visit(src);
    }
    assert.deepEqual(long, []);
  });

  it("keeps every test file under 400 lines too (suites grouped by layer, shared fixtures apart)", () => {
    const tests = (dir: string): string[] =>
      fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.join(dir, e.name);
        return e.isDirectory() ? tests(rel) : e.name.endsWith(".ts") ? [rel] : [];
      });
    const files = tests("test");
    assert.ok(files.length > 30);
    const long = files.filter((f) => fs.readFileSync(path.join(ROOT, f), "utf8").split("\n").length > 400);
    assert.deepEqual(long, []);
  });

  it("keeps README short: under 12 KB, the rest in docs/", () => {
    const size = fs.statSync(path.join(ROOT, "README.md")).size;
    assert.ok(size < 12 * 1024, `README.md is ${size} bytes`);
  });
});
