/** Shared by the program tests: fixtures and helpers. */
import { strict as assert } from "assert";
import { named, ofType, Registered, RunResult, runOk } from "../../scripts/mock-program";

export const INSTANCE = "oci:Core/instance:Instance";
export const VOLUME = "oci:Core/volume:Volume";
export const ATTACHMENT = "oci:Core/volumeAttachment:VolumeAttachment";
export const RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule";
export const NLB = "oci:NetworkLoadBalancer/networkLoadBalancer:NetworkLoadBalancer";
export const BACKEND_SET =
  "oci:NetworkLoadBalancer/networkLoadBalancersBackendSetsUnified:NetworkLoadBalancersBackendSetsUnified";
export const LISTENER = "oci:NetworkLoadBalancer/listener:Listener";

export const run = runOk;

export const userData = (i: Registered) => Buffer.from(i.inputs.metadata.user_data, "base64").toString("utf8");
export const isWorld = (rule: Registered) => rule.inputs.source === "0.0.0.0/0";
export const portOf = (rule: Registered) => (rule.inputs.tcpOptions ?? rule.inputs.udpOptions)?.destinationPortRange;
export const opensPort = (rule: Registered, port: number) => {
  const range = portOf(rule);
  return rule.inputs.protocol === "all" || (range !== undefined && range.min <= port && port <= range.max);
};

/** Rules whose source is another NSG, as "nsg protocol min-max from source", sorted. */
export function nodeToNodeRules(r: RunResult): string[] {
  return ofType(r, RULE)
    .filter((x) => x.inputs.sourceType === "NETWORK_SECURITY_GROUP")
    .map(
      (x) => `${x.inputs.networkSecurityGroupId} ${x.inputs.protocol} ${portOf(x).min}-${portOf(x).max} from ${x.inputs.source}`,
    )
    .sort();
}

/** Every ingress rule, in every NSG, that admits the world. */
export function worldIngress(r: RunResult) {
  return ofType(r, RULE).filter((rule) => rule.inputs.direction === "INGRESS" && isWorld(rule));
}

export function assertNoAdminPortFromWorld(r: RunResult) {
  for (const port of [22, 6443]) {
    const open = worldIngress(r).filter((rule) => opensPort(rule, port));
    assert.deepEqual(
      open.map((x) => x.name),
      [],
      `port ${port} is open to 0.0.0.0/0`,
    );
  }
  // The VCN's default security list (Oracle opens 22 to the world in it) is replaced.
  const dsl = named(r, "oci:Core/defaultSecurityList:DefaultSecurityList", "default-security-list");
  for (const rule of dsl.inputs.ingressSecurityRules)
    assert.equal(rule.protocol, "1", "only ICMP enters through the security list");
}
