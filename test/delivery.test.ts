/** Delivery files: GitHub Actions workflows checked by actionlint, pinned actions, the Renovate config. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "./harness";
import { tempDir } from "./tools";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const workflowFiles = () => fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

describe("delivery: GitHub Actions workflows", () => {
  it("are valid workflows by GitHub's schema (action-validator)", () => {
    assert.deepEqual(workflowFiles().sort(), ["deploy.yml", "preview.yml", "test.yml"]);
    const validator = path.join(ROOT, "node_modules", ".bin", "action-validator");
    for (const file of workflowFiles()) {
      const r = spawnSync(validator, [path.join(WORKFLOWS, file)], { encoding: "utf8" });
      assert.equal(r.status, 0, `${file}:\n${r.stdout}${r.stderr}`);
    }
    // The validator does reject a broken workflow.
    const broken = path.join(tempDir("workflow"), "broken.yml");
    fs.writeFileSync(broken, "name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - bogus: 1\n");
    assert.notEqual(spawnSync(validator, [broken], { encoding: "utf8" }).status, 0);
  });

  it("use actions pinned to full commit SHAs (with the version as a comment for Renovate)", () => {
    for (const file of workflowFiles()) {
      const text = fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
      const uses = [...text.matchAll(/uses:\s*(\S+)(.*)$/gm)];
      assert.ok(uses.length > 0);
      for (const [, ref, comment] of uses) {
        assert.match(ref, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${ref} is not pinned to a commit`);
        assert.match(comment, /# v\d+\.\d+\.\d+/, `${file}: ${ref} lacks its version comment`);
      }
    }
  });

  it("preview every stack on pull requests with a PR comment, and deploy dev then prd without racing", () => {
    const preview = parse(fs.readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8"));
    assert.deepEqual(Object.keys(preview.on), ["pull_request"]);
    assert.deepEqual(preview.jobs.preview.strategy.matrix.stack, ["dev", "prd"]);
    const previewStep = preview.jobs.preview.steps.find((s: { uses?: string }) => s.uses?.startsWith("pulumi/actions@"));
    assert.equal(previewStep.with.command, "preview");
    assert.equal(previewStep.with["comment-on-pr"], true);
    assert.equal(previewStep.with.diff, true);
    assert.equal(previewStep.with.policyPacks, "policy");
    const deploy = parse(fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8"));
    assert.deepEqual(deploy.on, { push: { branches: ["main"] } });
    assert.deepEqual(deploy.concurrency, { group: "deploy", "cancel-in-progress": false });
    assert.deepEqual(deploy.jobs.up.strategy, { "max-parallel": 1, matrix: { stack: ["dev", "prd"] } });
    assert.equal(deploy.jobs.up.environment, "${{ matrix.stack }}");
    for (const wf of [preview, deploy]) assert.equal(wf.env.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}");
    const pulumiVersion = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
    assert.equal(previewStep.with["pulumi-version"], pulumiVersion, "the CLI matches the SDK pin");
  });
});
