/**
 * The examples' placeholders (RFC 5737 documentation addresses, the example compartment): the
 * program refuses them as pulumi preview and up run it, and the offline plan reports them.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { ConfigError, DOCUMENTATION_RANGES, placeholderProblems } from "../../config";
import { placeholdersReportedOnly } from "../../config/placeholders";
import { MINIMAL_CONFIG, ROOT, runProgram, stackConfig, stackConfigFrom } from "../../scripts/mock-program";

const REFUSE = { placeholders: "refuse" } as const;
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
/** A config as a user has edited it: a real-looking compartment and an admin range of no documentation block. */
const EDITED = { ...MINIMAL_CONFIG, adminCidrs: ["100.64.12.34/32"], alertEmail: "oncall@ops.oci-k8s.io" };

describe("placeholders: documentation addresses and the example compartment", () => {
  it("the shipped dev stack is refused as pulumi preview and up run it, naming each key, its value and what to put there", async () => {
    const r = await runProgram("dev", stackConfig("dev"), REFUSE);
    assert.ok(r.error instanceof ConfigError, String(r.error));
    const byKey = new Map(r.error.problems.map((p) => [p.key, p]));
    assert.deepEqual([...byKey.keys()].sort(), ["oci-k8s:adminCidrs[0]", "oci-k8s:alertEmail", "oci-k8s:compartmentId"]);
    assert.match(
      byKey.get("oci-k8s:alertEmail")!.message,
      /reserved for examples \(RFC 2606\): put an address whose mailbox someone reads/,
    );
    assert.equal(byKey.get("oci-k8s:adminCidrs[0]")!.value, "203.0.113.10/32");
    assert.match(byKey.get("oci-k8s:adminCidrs[0]")!.message, /documentation address \(RFC 5737, 203\.0\.113\.0\/24\)/);
    assert.match(byKey.get("oci-k8s:adminCidrs[0]")!.message, /curl -s https:\/\/checkip\.amazonaws\.com/);
    assert.match(byKey.get("oci-k8s:compartmentId")!.message, /example stack's placeholder: put your compartment's OCID there/);
    assert.deepEqual(r.resources, [], "nothing is registered");
  });

  it("refuses an address inside each documentation range, and accepts ranges around or beside them", async () => {
    for (const range of DOCUMENTATION_RANGES) {
      const inside = range.replace(/0\/24$/, "77/32");
      const r = await runProgram("dev", { ...EDITED, adminCidrs: ["100.64.12.34/32", inside] }, REFUSE);
      assert.ok(r.error instanceof ConfigError, inside);
      assert.deepEqual(
        r.error.problems.map((p) => [p.key, p.value]),
        [["oci-k8s:adminCidrs[1]", inside]],
      );
    }
    for (const fine of ["203.0.0.0/16", "198.51.101.0/24", "192.0.3.1/32"])
      assert.deepEqual(placeholderProblems({ adminCidrs: [fine] }), [], fine);
    const r = await runProgram("dev", EDITED, REFUSE);
    assert.equal(r.error, undefined, String(r.error));
  });

  it("an alertEmail at a domain RFC 2606 reserves is refused; a look-alike domain is not", () => {
    const keys = (alertEmail: string) => placeholderProblems({ alertEmail }).map((p) => p.key);
    for (const reserved of [
      "ops@example.com",
      "a@mail.example.org",
      "b@example.net",
      "c@host.test",
      "d@x.invalid",
      "e@localhost",
      "f@site.example",
    ])
      assert.deepEqual(keys(reserved), ["oci-k8s:alertEmail"], reserved);
    for (const real of ["ops@examples.com", "ops@myexample.com", "ops@example.com.au", "oncall@ops.oci-k8s.io"])
      assert.deepEqual(keys(real), [], real);
  });

  it("a hosts stack: a documentation address as a host's SSH address or jumpHost is refused; its private network is its own", async () => {
    const config = stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.vps-kubeadm.yaml"));
    const r = await runProgram("vps-kubeadm", config, REFUSE);
    assert.ok(r.error instanceof ConfigError);
    assert.ok(r.error.problems.some((p) => p.key === "oci-k8s:hosts[0].address" && p.value === "198.51.100.21"));
    assert.match(r.error.message, /hosts\[0\]\.address.*put the address you reach the host at over SSH there/);
    assert.deepEqual(
      placeholderProblems({ hosts: [{ address: "10.20.0.11", privateIp: "192.0.2.11" }], jumpHost: "192.0.2.1" }).map(
        (p) => p.key,
      ),
      ["oci-k8s:jumpHost"],
    );
  });

  it("the mock runtime reports them (it creates nothing) and hands the refusal back to the program after the run", async () => {
    const r = await runProgram("dev", stackConfig("dev"));
    assert.equal(r.error, undefined, String(r.error));
    const warning = r.logs.find((l) => l.severity === "warn" && l.message.startsWith("PLACEHOLDERS"));
    assert.ok(warning, "the run names the placeholders");
    assert.match(warning.message, /edit Pulumi\.dev\.yaml before pulumi up \(pulumi preview and pulumi up refuse these values\)/);
    assert.match(warning.message, /oci-k8s:adminCidrs\[0\] = 203\.0\.113\.10\/32/);
    // Outside the mock runtime (the CLI's language host), nothing turns the refusal off.
    assert.equal(placeholdersReportedOnly(), false);
  });

  it("npm run plan -- dev renders the shipped stack and ends with the placeholders to edit before pulumi up", function () {
    this.timeout(120_000);
    const r = spawnSync(TSX, ["scripts/plan.ts", "dev"], { cwd: ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Plan of stack dev/);
    assert.match(
      r.stdout,
      /\nPLACEHOLDERS: edit Pulumi\.dev\.yaml before pulumi up \(pulumi preview and pulumi up refuse these values\):\n {2}oci-k8s:compartmentId = ocid1\.compartment\.oc1\.\.aaaaaaaadevexample\S+: is the example stack's placeholder.*\n {2}oci-k8s:adminCidrs\[0\] = 203\.0\.113\.10\/32: is a documentation address/,
    );
  });
});
