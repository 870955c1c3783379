/**
 * README's first commands with the real Pulumi CLI (tools/engine/bin/pulumi), in a temporary HOME,
 * PULUMI_HOME and local backend: `pulumi login --local`, `pulumi stack select --create dev`,
 * `pulumi config set --secret sshPrivateKey` (value on stdin), `npm run plan -- dev`, then the
 * formatter's check. The CLI rewrites the stack file (encryptionsalt:, its own layout); the plan
 * decrypts the secret with the passphrase, and lint leaves the CLI's file alone.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { must, requireFile, run, tempDir } from "../tools";

const ROOT = path.resolve(__dirname, "../..");
const CLI = path.join(ROOT, "tools/engine/bin/pulumi");
const BIN = path.join(ROOT, "node_modules/.bin");

describe("README's first commands with the real Pulumi CLI, then the plan and lint", function () {
  this.timeout(300_000);

  it("login --local, stack select --create dev, config set --secret sshPrivateKey: the plan decrypts it and prettier still passes", function () {
    requireFile(this, CLI, "build it with tools/engine/build.sh");
    const dir = tempDir("round-trip");
    const work = path.join(dir, "project");
    fs.mkdirSync(work);
    fs.mkdirSync(path.join(dir, "home"));
    for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", ".prettierignore", ".prettierrc.json"])
      fs.copyFileSync(path.join(ROOT, f), path.join(work, f));
    const shipped = fs.readFileSync(path.join(work, "Pulumi.dev.yaml"), "utf8");
    const env = {
      HOME: path.join(dir, "home"),
      PULUMI_HOME: path.join(dir, "home", ".pulumi"),
      PULUMI_CONFIG_PASSPHRASE: "round-trip-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
    const pulumi = (args: string[], input?: string) => {
      const r = run(CLI, args, { cwd: work, env, input, timeout: 120_000 });
      assert.equal(r.status, 0, `pulumi ${args.join(" ")}:\n${r.stdout}\n${r.stderr}`);
    };
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "round-trip", "-f", path.join(dir, "key")]);
    pulumi(["login", "--local"]);
    pulumi(["stack", "select", "--create", "dev"]);
    pulumi(["config", "set", "sshPublicKey", fs.readFileSync(path.join(dir, "key.pub"), "utf8").trim()]);
    pulumi(["config", "set", "--secret", "sshPrivateKey"], fs.readFileSync(path.join(dir, "key"), "utf8"));
    const rewritten = fs.readFileSync(path.join(work, "Pulumi.dev.yaml"), "utf8");
    assert.notEqual(rewritten, shipped, "the CLI rewrote the stack file (the case this test is about)");
    assert.match(rewritten, /encryptionsalt: /);
    assert.match(rewritten, /sshPrivateKey:\n\s+secure: /);
    assert.doesNotMatch(rewritten, /PRIVATE KEY/);

    const plan = run(
      path.join(BIN, "tsx"),
      [path.join(ROOT, "scripts/plan.ts"), "dev", "--file", path.join(work, "Pulumi.dev.yaml")],
      {
        cwd: ROOT,
        env,
        timeout: 180_000,
      },
    );
    const out = plan.stdout + plan.stderr;
    assert.doesNotMatch(out, /must be a PEM or OpenSSH private key/);
    assert.match(plan.stdout, /Encrypted values decrypted with the Pulumi CLI: oci-k8s:sshPrivateKey/, out);
    assert.doesNotMatch(out, /BEGIN OPENSSH PRIVATE KEY/);
    // The shipped placeholders are still there: the plan renders the stack and names them for editing.
    assert.equal(plan.status, 0, out);
    assert.ok(
      plan.stdout.includes(`PLACEHOLDERS: edit ${path.join(work, "Pulumi.dev.yaml")} before pulumi up`),
      plan.stdout.split("\n").slice(-4).join("\n"),
    );
    assert.match(plan.stdout, /oci-k8s:adminCidrs\[0\] = 203\.0\.113\.10\/32: is a documentation address/);

    const lint = run(path.join(BIN, "prettier"), ["--check", "--log-level", "warn", "."], { cwd: work });
    assert.equal(lint.status, 0, `prettier refused the CLI's stack file:\n${lint.stdout}${lint.stderr}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
