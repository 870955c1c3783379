/** tools/engine/build.sh says what it builds and how long a cold build takes, and is not silent while go builds. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fakeBin, run, tempDir } from "../tools";

const ROOT = path.resolve(__dirname, "../..");

describe("tools/engine/build.sh progress", function () {
  this.timeout(60_000);

  it("names the CLI and version, the cold figures, and reports progress while go build runs", () => {
    const dir = tempDir("engine-build");
    const engine = path.join(dir, "engine");
    fs.mkdirSync(engine);
    for (const f of ["build.sh", "go.mod", "go.sum"]) fs.copyFileSync(path.join(ROOT, "tools/engine", f), path.join(engine, f));
    const fakes = path.join(dir, "fakes");
    fs.mkdirSync(fakes);
    // A stand-in for go: `go env GOVERSION`, and a build that takes 3 s and writes a CLI that reports its version.
    fakeBin(
      fakes,
      "go",
      `case "$1" in
  env) echo go1.26.8 ;;
  build) out=""; while [[ $# -gt 0 ]]; do [[ "$1" == -o ]] && out=$2; shift; done
    sleep 3; printf '#!/usr/bin/env bash\\necho v3.248.0\\n' >"$out"; chmod +x "$out" ;;
esac`,
    );
    const r = run("bash", [path.join(engine, "build.sh")], {
      env: { PATH: `${fakes}:${process.env.PATH}`, ENGINE_PROGRESS_SECONDS: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /building pulumi v3\.248\.0 from github\.com\/pulumi\/pulumi\/pkg\/v3\/cmd\/pulumi/);
    assert.match(r.stdout, /cold .*1\.5 GB of modules/);
    assert.match(r.stdout, /9 minutes/);
    assert.match(r.stdout, /still building pulumi \(\d+ s\)/);
    assert.match(r.stdout, /done in \d+ s/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("Node.js versions: every locked package accepts the oldest Node README and package.json promise", () => {
  it("npm's own engine check (npm-install-checks, the code behind npm ci's EBADENGINE) passes every lockfile entry on that Node", () => {
    // npm-install-checks 8.0.0 (node_modules/npm-install-checks/lib/index.js, checkEngine): npm ci warns
    // EBADENGINE exactly when this throws for a package it installs.
    const { checkEngine } = require("npm-install-checks") as {
      checkEngine: (target: { _id: string; engines?: unknown }, npm: string | null, node: string) => void;
    };
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const oldest = /^>=\s*(\d+\.\d+)$/.exec(pkg.engines.node)![1];
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    assert.ok(readme.includes(`${oldest} or newer`), `README states the minimum Node package.json allows (${oldest})`);
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    const refused: string[] = [];
    for (const [where, p] of Object.entries(lock.packages as Record<string, { version?: string; engines?: unknown }>)) {
      if (!where) continue;
      try {
        checkEngine({ _id: `${where.replace(/^.*node_modules\//, "")}@${p.version}`, engines: p.engines }, null, `${oldest}.0`);
      } catch (error) {
        refused.push(
          `${(error as { pkgid: string }).pkgid} wants node ${JSON.stringify((error as { required: { node: string } }).required.node)}`,
        );
      }
    }
    assert.deepEqual(refused, [], `npm ci on Node ${oldest} prints EBADENGINE for these`);
  });
});
