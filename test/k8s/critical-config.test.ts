/**
 * k3s refuses a joining server whose critical control values differ from the cluster's
 * ("unable to join cluster due to critical configuration value mismatch"), and RKE2 inherits the
 * rule: every server-kind node (an API server or an etcd-only member) must agree on every one.
 * The configs checked are the ones the program registers (the install commands' stdin under the
 * mock runtime), for k3s and RKE2, over every shape the project ships.
 *
 * Upstream rule, as encoded below:
 * - k3s-io/k3s pkg/daemons/config/types.go, `CriticalControlArgs` (the `cli:` tag of each field
 *   names the config key). The v1.34.9+k3s1 tag the program pins is not in the stored sources;
 *   the fields are the union of the stored versions (commit 005499a9: release with
 *   embedded-registry; the newer one adding secrets-encryption-provider, supervisor-metrics and
 *   flannel-ip-masq-disable-random-fully; main adding system-default-registry, disable-kube-proxy
 *   and servicelb-namespace), so a Renovate bump past 1.34 is covered too.
 * - k3s-io/k3s pkg/cli/server/server.go: `disable: [servicelb]` sets DisableServiceLB.
 * - rancher/rke2 v1.34.9+rke2r1 pkg/rke2/rke2.go `Server`: secrets-encryption forced true and every
 *   k3s packaged component disabled on every server (so those always agree); RKE2 main
 *   pkg/rke2 criticalExtraConfig: the raw `cni` and `ingress-controller` values are compared too.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, ofType, ROOT, RunResult, runProgram, stackConfig, stackConfigFrom } from "../../scripts/mock-program";

/** CriticalControlArgs by config key, with k3s's default when the key is absent. */
const K3S_CRITICAL: Readonly<Record<string, unknown>> = {
  "cluster-dns": undefined,
  "cluster-cidr": undefined,
  "cluster-domain": undefined,
  "service-cidr": undefined,
  "disable-cloud-controller": false,
  "disable-helm-controller": false,
  "disable-network-policy": false,
  "secrets-encryption": false,
  "secrets-encryption-provider": undefined,
  "embedded-registry": false,
  "flannel-backend": undefined,
  "flannel-ipv6-masq": false,
  "flannel-ip-masq-disable-random-fully": false,
  "flannel-external-ip": false,
  "egress-selector-mode": undefined,
  "supervisor-metrics": false,
  "system-default-registry": undefined,
  "disable-kube-proxy": false,
  "servicelb-namespace": undefined,
};

/** The critical values a server-kind node's config.yaml yields, as k3s (or RKE2 on top of it) reads them. */
export function criticalValues(dist: "k3s" | "rke2", config: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(K3S_CRITICAL)) values[key] = config[key] ?? fallback;
  const disable = ((config.disable as string[] | undefined) ?? []).flatMap((d) => d.split(",").map((x) => x.trim()));
  values["disable-service-lb"] = disable.includes("servicelb");
  if (dist === "rke2") {
    values["secrets-encryption"] = true;
    values["disable-service-lb"] = true;
    values.cni = config.cni ?? null;
    values["ingress-controller"] = config["ingress-controller"] ?? null;
  }
  return values;
}

interface ServerKindConfig {
  readonly node: string;
  readonly role: string;
  readonly config: Record<string, unknown>;
}

/** Each server-kind node's registered config.yaml (rancher.sh <dist> server|etcd). */
export function serverKindConfigs(r: RunResult): ServerKindConfig[] {
  return (
    ofType(r, "command:remote:Command")
      .filter((c) => c.name.endsWith("-install") && typeof c.inputs.create === "string")
      // The command line ends with the script's arguments: rancher k3s|rke2 server|agent|etcd.
      .map((c) => ({ c, words: (c.inputs.create as string).split(" ").slice(-3) }))
      .filter(({ words }) => words[0] === "rancher" && words[2] !== "agent")
      .map(({ c, words }) => ({
        node: c.name.replace(/-install$/, ""),
        role: words[2],
        config: parse(decodeSettings(c.inputs.stdin).CONFIG) as Record<string, unknown>,
      }))
  );
}

const nodes = (n: unknown[]) => ({ nodes: n });
const SHAPES: Record<string, () => Record<string, unknown>> = {
  "one server": () => ({
    ...MINIMAL_CONFIG,
    ...nodes([
      { name: "server-1", role: "server", ocpus: 1 },
      { name: "agent-1", role: "agent", ocpus: 1 },
    ]),
  }),
  "three servers": () => ({
    ...MINIMAL_CONFIG,
    tier: "payg",
    acceptCharges: true,
    budgetAmount: 50,
    ...nodes([
      { name: "server-1", role: "server", ocpus: 2, memoryGb: 8 },
      { name: "server-2", role: "server", ocpus: 1, memoryGb: 8 },
      { name: "server-3", role: "server", ocpus: 1, memoryGb: 8 },
    ]),
  }),
  "two servers and an etcd-only member (8 GB)": () => ({
    ...MINIMAL_CONFIG,
    tier: "payg",
    acceptCharges: true,
    budgetAmount: 50,
    ...nodes([
      { name: "server-1", role: "server", ocpus: 1, memoryGb: 6 },
      { name: "server-2", role: "server", ocpus: 1, memoryGb: 6 },
      { name: "etcd-1", role: "etcd", ocpus: 1, memoryGb: 8 },
    ]),
  }),
  "Pulumi.dev.yaml": () => stackConfig("dev"),
  "Pulumi.prd.yaml": () => stackConfig("prd"),
  ...Object.fromEntries(
    fs
      .readdirSync(path.join(ROOT, "examples", "hosts"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => [`examples/hosts/${f}`, () => stackConfigFrom(path.join(ROOT, "examples", "hosts", f))]),
  ),
};

/** A stack the program refuses for a reason of its own (RKE2's etcd static pod on 1 GB), not a mismatch. */
const REFUSED_SHAPE = /RKE2 runs etcd as a static pod/;

describe("every server-kind node agrees on k3s's critical control values (registered configs)", function () {
  this.timeout(120_000);
  let checked = 0;

  for (const dist of ["k3s", "rke2"] as const) {
    for (const [shape, config] of Object.entries(SHAPES)) {
      it(`${dist}, ${shape}`, async () => {
        const r = await runProgram("critical", { ...config(), "oci-k8s:distribution": dist, distribution: dist });
        if (r.error && REFUSED_SHAPE.test(r.error.message)) return;
        if (r.error) throw r.error;
        const servers = serverKindConfigs(r);
        assert.ok(servers.length >= 1, "no server-kind node");
        const [first, ...rest] = servers;
        const want = criticalValues(dist, first.config);
        for (const s of rest) {
          assert.deepEqual(criticalValues(dist, s.config), want, `${s.node} (${s.role}) disagrees with ${first.node}`);
        }
        // The values the platform relies on: k3s encrypts Secrets, no bundled service load balancer.
        assert.equal(want["secrets-encryption"], true);
        assert.equal(want["disable-service-lb"], true);
        checked += servers.length;
      });
    }
  }

  it("the prd shape's etcd-only member carries the servers' critical values (k3s)", async () => {
    const r = await runProgram("prd", stackConfig("prd"));
    if (r.error) throw r.error;
    const etcd = serverKindConfigs(r).find((s) => s.role === "etcd");
    assert.ok(etcd, "prd has an etcd-only member");
    assert.equal(etcd.config["secrets-encryption"], true);
    assert.ok((etcd.config.disable as string[]).includes("servicelb"));
  });

  after(() => assert.ok(checked === 0 || checked >= 20, `only ${checked} server configs checked`));
});
