/**
 * The Oracle Cloud layer on its own (test/infra/programs/infrastructure-only.ts): from plain
 * inputs it registers only Oracle Cloud resources, and every port between nodes, and the API's,
 * comes from its caller; none is its own.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { ofType, Registered, runOk } from "../../scripts/mock-program";

const PROGRAM = path.join(__dirname, "programs", "infrastructure-only.ts");
const RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule";
const LISTENER = "oci:NetworkLoadBalancer/listener:Listener";
const ports = (r: Registered) => (r.inputs.tcpOptions ?? r.inputs.udpOptions)?.destinationPortRange;

describe("layers: createInfrastructure on its own", () => {
  it("registers only Oracle Cloud resources, opens between nodes only the ports it is given, and puts the API on the port it is given", async () => {
    const r = await runOk("infra-only", {}, { program: PROGRAM });
    const foreign = r.resources.filter(
      (x) => !x.type.startsWith("oci:") && !x.type.startsWith("oci-k8s:infra:") && !x.type.startsWith("tls:") && !x.read,
    );
    assert.deepEqual(
      foreign.map((x) => x.type),
      [],
    );
    const rules = ofType(r, RULE);
    const betweenNodes = rules.filter((x) => x.inputs.description === "a test overlay");
    assert.ok(betweenNodes.length > 0);
    assert.ok(betweenNodes.every((x) => x.inputs.protocol === "17" && ports(x)?.min === 4789));
    const portsUsed = new Set(rules.flatMap((x) => (ports(x) ? [ports(x).min] : [])));
    for (const kubernetes of [6443, 10250, 8472, 2379, 9345]) assert.ok(!portsUsed.has(kubernetes), `port ${kubernetes} opened`);
    assert.ok(portsUsed.has(7443), "the API port it was given");
    assert.ok(
      ofType(r, LISTENER).some((l) => l.inputs.port === 7443),
      "the load balancer listens for the API on the port it was given",
    );
    assert.equal(r.outputs.nodes, 2);
  });
});
