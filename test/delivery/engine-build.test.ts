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

describe("Node.js versions: what README promises matches the lockfile", () => {
  it("README names every EBADENGINE warning npm ci prints on the oldest Node package.json allows", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const oldest = /^>=(\d+)/.exec(pkg.engines.node)![1];
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    const stricter = Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
      .filter(
        ([, p]) => /^>=\s*(\d+)/.test(p.engines?.node ?? "") && Number(/^>=\s*(\d+)/.exec(p.engines!.node!)![1]) > Number(oldest),
      )
      .map(([name]) => name.replace(/^.*node_modules\//, ""));
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    if (stricter.length > 0) {
      assert.match(readme, /EBADENGINE/, `README promises Node ${oldest} but these want more: ${stricter.join(", ")}`);
      for (const name of stricter)
        assert.ok(name.includes("kubernetes-models"), `${name} wants a newer Node than README explains`);
    }
  });
});
