/** The offline plan: committed snapshots and diagrams are current; the report and its budget verdict. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { diagramPath, planStack, renderDiagram, renderSnapshot, snapshotPath, STACKS } from "../../scripts/plan";
import { readStackFile, ROOT, runOk, SECRET_PLACEHOLDERS, stackConfig } from "../../scripts/mock-program";
import { tempDir } from "../tools";

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

describe("offline plan", () => {
  for (const stack of STACKS) {
    it(`the committed ${stack} snapshot and diagram match the program (run npm run snapshot:update after a reviewed change)`, async () => {
      const result = await planStack(stack);
      if (result.error) throw result.error;
      assert.equal(renderSnapshot(result), fs.readFileSync(snapshotPath(stack), "utf8"), `${stack}: unreviewed plan change`);
      assert.equal(renderDiagram(stack, result), fs.readFileSync(diagramPath(stack), "utf8"));
    });
  }

  it("a changed resource input changes the snapshot (so the comparison fails until it is updated), and secrets stay masked", async () => {
    const committed = fs.readFileSync(snapshotPath("dev"), "utf8");
    const changed = renderSnapshot(await runOk("dev", { ...stackConfig("dev"), "oci-k8s:publicSubnetCidr": "10.0.8.0/24" }));
    assert.notEqual(changed, committed);
    assert.match(changed, /cidrBlock: 10\.0\.8\.0\/24/);
    assert.doesNotMatch(committed, /MockClusterToken|PRIVATE KEY|TU9DSy1LRVk=/);
    assert.match(committed, /kubeconfig: "\[secret\]"/);
    assert.match(committed, /stdin: "\[secret\]"/);
  });

  for (const [stack, ocpus] of [
    ["dev", "2 OCPU +2 OCPU"],
    ["prd", "2 OCPU +2 OCPU"],
  ]) {
    it(`npm run plan -- ${stack} prints nodes, the budget table, Oracle's guards, open ports and the platform, and exits 0`, function () {
      this.timeout(120_000);
      const r = spawnSync(TSX, ["scripts/plan.ts", stack], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Nodes\nname +role +shape/);
      assert.match(
        r.stdout,
        new RegExp(`Free-tier usage\\nresource +used +free +excess +cost/month\\nAmpere A1 OCPUs +${ocpus} +- +\\$0\\.00`),
      );
      assert.match(r.stdout, /\ntotal +\$0\.00\n/);
      assert.match(r.stdout, /Oracle's guards .*\n {2}set compute-core quota standard-a1-core-count to 2 in compartment /);
      assert.match(r.stdout, / {2}budget: 1 a month; alert at 0\.01 of actual spend to ops@example\.com\n/);
      assert.match(r.stdout, /loadBalancer +ingress +tcp +6443 +203\.0\.113\.10\/32/);
      assert.match(r.stdout, /Platform\ncomponent +version +namespace/);
      assert.match(r.stdout, /traefik +41\.3\.0 +ingress/);
    });
  }

  it("a secret set the documented way (pulumi config set --secret: a secure: value) plans, and the plan says it was not decrypted", function () {
    this.timeout(120_000);
    const file = path.join(tempDir("plan-secure"), "Pulumi.dev.yaml");
    const config = {
      ...stackConfig("dev"),
      "oci-k8s:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfTheOperatorOnly0123456789abcdefghij op@laptop",
      "oci-k8s:sshPrivateKey": { secure: "v1:Zm9vYmFy:c2VjcmV0LW5vdC1yZWFsbHktZGVjcnlwdGFibGU=" },
    };
    fs.writeFileSync(file, stringify({ encryptionsalt: "v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy", config }));
    const read = readStackFile(file);
    assert.deepEqual(read.encrypted, ["oci-k8s:sshPrivateKey"]);
    assert.equal(read.config["oci-k8s:sshPrivateKey"], SECRET_PLACEHOLDERS.sshPrivateKey);
    const env = { ...process.env };
    delete env.PULUMI_CONFIG_PASSPHRASE;
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    const docsDiagramTime = fs.statSync(diagramPath("dev")).mtimeMs;
    const r = spawnSync(TSX, ["scripts/plan.ts", "dev", "--file", file], { cwd: ROOT, encoding: "utf8", env });
    assert.doesNotMatch(r.stderr, /must be a PEM or OpenSSH private key/);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Encrypted values not decrypted \(PULUMI_CONFIG_PASSPHRASE is not set\).*oci-k8s:sshPrivateKey/);
    assert.doesNotMatch(r.stdout + r.stderr, /placeholder-for-the-encrypted-value|v1:Zm9vYmFy/);
    // The user's own file gets its diagram beside it; the checkout's docs/ are left alone.
    assert.ok(fs.existsSync(path.join(path.dirname(file), "topology-dev.mmd")));
    assert.equal(fs.statSync(diagramPath("dev")).mtimeMs, docsDiagramTime);
  });

  it("a stack over its allowance makes npm run plan exit 1 with the same table, and a payg one names its monthly cost", function () {
    this.timeout(120_000);
    const file = path.join(tempDir("plan-over"), "Pulumi.big.yaml");
    const config = { ...stackConfig("dev"), "oci-k8s:nodes": [{ name: "server-1", role: "server", ocpus: 4, memoryGb: 24 }] };
    fs.writeFileSync(file, stringify({ config }));
    const r = spawnSync(TSX, ["scripts/plan.ts", "big", "--file", file], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /more than a always-free tenancy can have/);
    assert.match(r.stderr, /Ampere A1 OCPUs +4 OCPU +2 OCPU +2 OCPU +not possible/);
    fs.writeFileSync(file, stringify({ config: { ...config, "oci-k8s:tier": "payg" } }));
    const payg = spawnSync(TSX, ["scripts/plan.ts", "big", "--file", file], { cwd: ROOT, encoding: "utf8" });
    assert.equal(payg.status, 1);
    assert.match(payg.stderr, /billed about \$28\.04 a month/);
    assert.match(payg.stderr, /Ampere A1 OCPUs: 2 OCPU over the free 2 OCPU, \$14\.76 a month/);
    assert.match(payg.stderr, /Ampere A1 OCPUs +4 OCPU +2 OCPU +2 OCPU +\$14\.76/);
  });
});
