/** Bad configuration stops the program before any resource, with one message naming key, value and what is allowed. */
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { ConfigError, parseConfig } from "../../config";
import { runProgram } from "../../scripts/mock-program";
import { BACKUP_BAD } from "./backups.fixtures";
import { base, BAD as GENERAL } from "./config.fixtures";

const BAD = [...GENERAL, ...BACKUP_BAD];

describe("config: bad values stop the program before any resource", () => {
  it(`covers at least 25 distinct mistakes (has ${BAD.length})`, () => {
    assert.ok(BAD.length >= 25);
    assert.equal(new Set(BAD.map((b) => b.why)).size, BAD.length);
  });

  for (const bad of BAD) {
    it(`rejects ${bad.why}`, async () => {
      const config = Object.fromEntries(Object.entries(bad.config).filter(([, v]) => v !== undefined));
      const r = await runProgram("bad", config);
      assert.ok(r.error, "the program ran");
      assert.ok(r.error!.message.includes(bad.key), `message does not name ${bad.key}:\n${r.error!.message}`);
      assert.match(r.error!.message, bad.says);
      assert.match(r.error!.message, /nothing was created/);
      assert.deepEqual(
        r.resources.map((x) => x.type),
        [],
        "resources were registered",
      );
    });
  }

  it("refuses a secret key given in plain text, naming it, and creates nothing", async () => {
    const r = await runProgram(
      "plain",
      { ...base, gitopsRepoUrl: "https://github.com/example/c.git", gitopsRepoCredential: "ghp_plainTextToken" },
      { plainSecrets: ["gitopsRepoCredential"] },
    );
    assert.ok(r.error);
    assert.match(
      r.error!.message,
      /oci-k8s:gitopsRepoCredential: "\[plain text\]" must be encrypted: set it with pulumi config set --secret/,
    );
    assert.ok(!r.error!.message.includes("ghp_plainTextToken"), "the refusal prints the secret");
    assert.deepEqual(r.resources, []);
    // The same value set with --secret is taken.
    const ok = await runProgram("secret", {
      ...base,
      gitopsRepoUrl: "https://github.com/example/c.git",
      gitopsRepoCredential: "ghp_x",
    });
    assert.equal(ok.error, undefined);
  });

  it("reports every bad value of a stack in one message", () => {
    try {
      parseConfig({ compartmentId: "x", tier: "gold", adminCidrs: ["1.2.3.4/33"] }, "dev");
      assert.fail("accepted");
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems.map((p) => p.key).sort(), ["oci-k8s:compartmentId", "oci-k8s:tier"]);
    }
  });

  it("reaches the CLI as the problems alone: a RunError, whose message Pulumi's runtime prints without a stack trace", () => {
    // @pulumi/pulumi 3.248.0 cmd/run/run.js, uncaughtHandler: `if (RunError.isInstance(err)) log.error(err.message)`;
    // any other error is printed as "failed with an unhandled exception" with its stack (issue 20.8).
    try {
      parseConfig({ compartmentId: "x", tier: "gold" }, "dev");
      assert.fail("accepted");
    } catch (e) {
      assert.ok(pulumi.RunError.isInstance(e), "a ConfigError is not a RunError: the CLI would print a Node stack trace");
      assert.ok(!(e as Error).message.includes("    at "), "the message carries a stack");
    }
  });

  it("fills every default for a minimal stack", () => {
    const c = parseConfig(
      { compartmentId: "ocid1.compartment.oc1..aaaa", adminCidrs: ["203.0.113.10/32"], alertEmail: "ops@example.com" },
      "Feature.Branch",
    );
    assert.equal(c.clusterName, "oci-k8s-feature-branch");
    assert.equal(c.tier, "always-free");
    assert.equal(c.distribution, "k3s");
    assert.deepEqual(c.nodes, [
      {
        name: "server-1",
        role: "server",
        shape: "VM.Standard.A1.Flex",
        arch: "arm64",
        ocpus: 2,
        memoryGb: 12,
        bootVolumeGb: 50,
        dataVolumeGb: 100,
        availabilityDomain: undefined,
        imageId: undefined,
        subnet: "public",
        ingress: true,
        micro: false,
      },
    ]);
  });

  it("defaults a flex node's memory to 6 GB per OCPU and a NAT stack's nodes to the private subnet", () => {
    const c = parseConfig(
      {
        compartmentId: "ocid1.compartment.oc1..aaaa",
        adminCidrs: ["203.0.113.10/32"],
        alertEmail: "ops@example.com",
        tier: "payg",
        natGateway: true,
        nodes: [
          { name: "s", role: "server", ocpus: 3 },
          { name: "j", role: "agent", shape: "VM.Standard.E2.1.Micro", subnet: "public" },
        ],
      },
      "prd",
    );
    assert.equal(c.nodes[0].memoryGb, 18);
    assert.equal(c.nodes[0].subnet, "private");
    assert.equal(c.nodes[1].subnet, "public");
    assert.equal(c.nodes[1].ingress, false);
  });
});
