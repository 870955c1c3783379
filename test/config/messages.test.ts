/** What a refusal says: Oracle's region identifiers, "did you mean" for a mistyped key or region. */
import { strict as assert } from "assert";
import { NodeOutput } from "../../outputs";
import { runOk, runProgram } from "../../scripts/mock-program";
import { base } from "./config.fixtures";

async function refusal(config: Record<string, unknown>): Promise<string> {
  const r = await runProgram("bad", Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)));
  assert.ok(r.error, "the program ran");
  assert.deepEqual(r.resources, [], "resources were registered");
  return r.error!.message;
}

describe("config messages: region and typos", () => {
  it("refuses a missing oci:region, saying what to set", async () => {
    assert.match(
      await refusal({ ...base, "oci:region": undefined }),
      /oci:region: \(not set\) is required on Oracle Cloud: .*e\.g\. eu-frankfurt-1/,
    );
  });

  it("refuses a misspelt oci:region (a city name), naming the identifier meant", async () => {
    assert.match(
      await refusal({ ...base, "oci:region": "frankfurt" }),
      /oci:region: "frankfurt" is not an Oracle Cloud region identifier; did you mean eu-frankfurt-1 or eu-frankfurt-2\?/,
    );
    assert.match(await refusal({ ...base, "oci:region": "eu-frankfrut-1" }), /did you mean eu-frankfurt-1\?/);
  });

  it("the availability domains follow the stack's region, not Frankfurt's", async () => {
    const r = await runOk("zurich", { ...base, "oci:region": "eu-zurich-1" });
    const ads = (r.outputs.nodes as NodeOutput[]).map((n) => n.availabilityDomain);
    assert.ok(ads.length > 0 && ads.every((ad) => /EU-ZURICH-1-AD-\d/.test(String(ad))), ads.join(", "));
  });

  it("a mistyped key gets a did-you-mean, reported together with the required key it left unset", async () => {
    const message = await refusal({ ...base, compartmentId: undefined, compartmentID: base.compartmentId });
    assert.match(message, /oci-k8s:compartmentID: .* is not a key of this program; did you mean compartmentId\?/);
    assert.match(message, /oci-k8s:compartmentId: \(not set\) is required/);
  });

  it("a value of the wrong kind says what it must be in good English, with an example", async () => {
    const message = await refusal({ ...base, adminCidrs: "203.0.113.10/32x" });
    assert.match(message, /oci-k8s:adminCidrs: "203\.0\.113\.10\/32x" must be a YAML list, e\.g\. adminCidrs: \[a, b\]/);
    assert.doesNotMatch(message, /a array/);
  });
});
