/** The project's own files stay true to the code: Pulumi.yaml, README, pins, CI. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS } from "../../config";
import { pulumiConfigSection, renderPulumiYaml, GENERATED, renderPage } from "../../scripts/docs";
import { ROOT } from "../../scripts/mock-program";
import { loadLikePulumi } from "../tools";

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("project files", () => {
  it("loads index.ts through ts-node the way Pulumi's Node.js runtime registers it (what pulumi up runs)", function () {
    this.timeout(60_000);
    // Options as @pulumi/pulumi's cmd/run passes them; transpileOnly comes from tsconfig's ts-node section.
    const r = loadLikePulumi(ROOT, "");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "function");
  });

  it("Pulumi.yaml is project oci-k8s on nodejs and declares every typeable key as the program reads it", () => {
    const project = parse(read("Pulumi.yaml"));
    assert.equal(project.name, "oci-k8s");
    assert.equal(project.runtime.name, "nodejs");
    assert.deepEqual(project.config, pulumiConfigSection());
    const undeclared = Object.keys(CONFIG_KEYS).filter((k) => !(k in project.config));
    const secret = Object.entries(CONFIG_KEYS)
      .filter(([, s]) => "secret" in s && s.secret)
      .map(([k]) => k);
    assert.deepEqual(
      undeclared.sort(),
      ["artifactSha256", "componentValues", "nodes", "hosts", ...secret].sort(),
      "only object-typed and optional secret keys may be left out",
    );
    assert.equal(read("Pulumi.yaml"), renderPulumiYaml(read("Pulumi.yaml")), "run npm run gen:docs");
  });

  it("Pulumi.yaml passes the CLI's own stack-config rules (pulumi/pulumi sdk/go/common/workspace: validateStackConfigValue)", () => {
    // The CLI copies a project default into a stack that leaves the key out, as plain text, then
    // validates every value: a `secret: true` key whose value is not encrypted stops every
    // preview and up with "must be encrypted as it's secret"; a value must match the declared
    // type (ValidateConfigValue: string, integer, boolean, array of items).
    const matches = (type: string, items: string | undefined, value: unknown): boolean => {
      switch (type) {
        case "string":
          return typeof value === "string";
        case "integer":
          return typeof value === "number" && Number.isInteger(value);
        case "boolean":
          return typeof value === "boolean";
        case "array":
          return Array.isArray(value) && value.every((v) => items !== undefined && matches(items, undefined, v));
        default:
          return false;
      }
    };
    // And a declared key without a default is required of every stack ("Stack 'dev' is missing
    // configuration values ..."): so an optional secret cannot be declared at all.
    const config = parse(read("Pulumi.yaml")).config as Record<string, Record<string, unknown>>;
    const stacks = ["dev", "prd"].map((s) => ({ name: s, config: parse(read(`Pulumi.${s}.yaml`)).config ?? {} }));
    const problems: string[] = [];
    for (const [key, spec] of Object.entries(config)) {
      const items = (spec.items as { type?: string } | undefined)?.type;
      if (spec.secret === true && "default" in spec) problems.push(`${key}: a secret key with a plain default`);
      if ("default" in spec && !matches(String(spec.type), items, spec.default))
        problems.push(
          `${key}: default ${JSON.stringify(spec.default)} is not of type ${spec.type}${items ? ` of ${items}` : ""}`,
        );
      for (const stack of stacks) {
        if (!("default" in spec) && !(`oci-k8s:${key}` in stack.config))
          problems.push(`${key}: required, and ${stack.name} does not set it`);
      }
    }
    assert.deepEqual(problems, []);
    // The program's secret keys are not declared: it refuses them in plain text itself.
    const secretKeys = Object.entries(CONFIG_KEYS)
      .filter(([, s]) => "secret" in s && s.secret)
      .map(([k]) => k);
    assert.ok(secretKeys.length >= 4);
    for (const key of secretKeys) assert.equal(config[key], undefined, key);
  });

  it("the docs' generated blocks match the code (run npm run gen:docs)", () => {
    assert.ok(Object.keys(GENERATED).length >= 4);
    for (const page of Object.keys(GENERATED)) assert.equal(read(page), renderPage(page, read(page)), page);
  });

  it("README names the two commands that set up and test, and .ci/run runs that test command", () => {
    const readme = read("README.md");
    assert.match(readme, /```sh\nnpm ci && pulumi login --local && pulumi stack select --create dev && pulumi up\n```/);
    assert.match(readme, /```sh\nnpm test\n```/);
    const ci = read(".ci/run");
    assert.match(ci, /^npm ci\b/m);
    assert.match(ci, /^npm test$/m);
    for (const pkg of ["cloud-init", "iptables", "iproute2", "shellcheck", "e2fsprogs"]) assert.ok(ci.includes(pkg), pkg);
  });

  it("README and the docs name only files, folders and npm scripts that exist, and link only pages that exist", () => {
    const pages = [
      "README.md",
      ...fs
        .readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    const readme = pages.map(read).join("\n");
    const links = [...read("README.md").matchAll(/\]\((docs\/[\w.-]+)\)/g)].map((m) => m[1]);
    assert.ok(links.length >= 7);
    assert.deepEqual(
      links.filter((l) => !fs.existsSync(path.join(ROOT, l))),
      [],
    );
    const scripts = Object.keys(JSON.parse(read("package.json")).scripts);
    const named = new Set<string>();
    const top =
      /^(\.ci|\.github|config|docs|examples|hosts|infra|k8s|policy|scripts|stack|test|tools)\/[\w./-]*$|^[\w.-]+\.(ts|yaml|json|md)$/;
    for (const [, text] of readme.matchAll(/`([^`\s]+)`/g)) if (top.test(text) && !text.includes("<")) named.add(text);
    for (const [, text] of readme.matchAll(/^([\w.-]+(?:\/[\w.*-]*)+)\s{2,}\S/gm)) named.add(text); // the architecture tree
    // A tool's build output (tools/<tool>/bin/..., git-ignored) exists once its build script has
    // run: on a fresh clone it is named by the docs but not there yet, so its build script must be.
    const builtBy = (p: string) => /^tools\/([\w-]+)\/bin(?:\/|$)/.exec(p)?.[1];
    const exists = (p: string) => {
      const tool = builtBy(p);
      return tool ? fs.existsSync(path.join(ROOT, "tools", tool, "build.sh")) : fs.existsSync(path.join(ROOT, p));
    };
    const absent = [...named].filter((p) => !p.includes("*") && !exists(p));
    assert.deepEqual(absent, [], "README names paths that do not exist");
    assert.ok(named.size > 20, `only ${named.size} paths found: the pattern is broken`);
    // Pulumi.yaml's own prose (its comments) is held to the same: paths, npm scripts, keys.
    const project = read("Pulumi.yaml")
      .split("\n")
      .filter((l) => l.startsWith("#"))
      .join("\n");
    const projectPaths = [
      ...project.matchAll(/\b((?:config|infra|k8s|hosts|docs|scripts|stack)\/[\w./-]+\.(?:ts|md|yaml))\b/g),
    ].map((m) => m[1]);
    assert.deepEqual(
      projectPaths.filter((p) => !fs.existsSync(path.join(ROOT, p))),
      [],
      "Pulumi.yaml names files that do not exist",
    );
    const keys = new Set(Object.keys(CONFIG_KEYS));
    const namedKeys = [...`${readme}\n${project}`.matchAll(/\boci-k8s:([A-Za-z]+)(?![:\w])/g)].map((m) => m[1]);
    assert.ok(namedKeys.length > 20);
    assert.deepEqual(
      [...new Set(namedKeys.filter((k) => !keys.has(k)))],
      [],
      "the docs name config keys the program does not read",
    );
    const runs = [...`${readme}\n${project}`.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
    assert.ok(runs.length > 3);
    assert.deepEqual(
      runs.filter((r) => !scripts.includes(r)),
      [],
      "README runs npm scripts that do not exist",
    );
  });

  it("pins every npm dependency exactly in every package, each with its lockfile; @pulumi/command at 1.2.1", () => {
    for (const dir of [".", "policy", "tools/renovate", "examples/web-app"]) {
      const pkg = JSON.parse(read(path.join(dir, "package.json")));
      for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
        assert.match(String(version), /^\d+\.\d+\.\d+$/, `${dir}: ${name}@${version} is not an exact version`);
      }
      assert.ok(fs.existsSync(path.join(ROOT, dir, "package-lock.json")), `${dir} has no lockfile`);
    }
    const pkg = JSON.parse(read("package.json"));
    assert.equal(pkg.dependencies["@pulumi/command"], "1.2.1");
    const lock = JSON.parse(read("package-lock.json"));
    assert.equal(lock.packages["node_modules/@pulumi/command"].version, "1.2.1");
  });

  it("both stack files use only the project's keys and Oracle's provider keys", () => {
    for (const stack of ["dev", "prd"]) {
      const keys = Object.keys(parse(read(`Pulumi.${stack}.yaml`)).config);
      for (const key of keys) {
        const [ns, name] = key.split(":");
        assert.ok(ns === "oci" || (ns === "oci-k8s" && name in CONFIG_KEYS), `${stack}: unexpected key ${key}`);
      }
      assert.ok(keys.length <= 12, `${stack} should stay a short file`);
    }
  });

  it("commits no private key outside test fixtures", () => {
    const tracked = (dir: string): string[] =>
      fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        if (["node_modules", ".git"].includes(e.name) || e.isSymbolicLink()) return [];
        const rel = path.join(dir, e.name);
        return e.isDirectory() ? tracked(rel) : [rel];
      });
    for (const file of tracked(".").filter((f) => !f.startsWith("test/"))) {
      // A real key: the header and a line of its base64 body (the mock runtime's stand-ins have none).
      assert.doesNotMatch(read(file), /BEGIN (OPENSSH|RSA|EC)? ?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{60,}/, file);
    }
  });
});
