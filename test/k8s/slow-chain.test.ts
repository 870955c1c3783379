/**
 * The first `up` of dev: how many slow steps run one after another (issue 24: at most 6). The
 * longest chain is computed from the graph the program registers under the mock runtime: each
 * resource waits for its dependencies and its parent's, and a chain counts only its slow steps.
 *
 * Slow, by resource type:
 * - an instance (`oci:Core/instance:Instance`): created, then booted;
 * - a remote command that waits or installs: `wait-host` (cloud-init and the host's preparation),
 *   the distribution's install (`rancher`, `kubeadm`), `wait-ready` (every node Ready);
 * - a Helm release that waits (`kubernetes:helm.sh/v3:Release` without `skipAwait`: Helm's --wait).
 * Not slow on a first up: the drain (rollout.sh exits at once, the node is not in the cluster yet),
 * and the short kubectl and file steps (labels, kubeconfig, kernel hold, uncordon's annotation).
 * A node's uncordon waits for that node to be Ready after its install's own readiness check (the
 * API's /readyz on a server, the service active on an agent): it is counted with the install.
 */
import { strict as assert } from "assert";
import { Registered, runOk, RunResult, stackConfig } from "../../scripts/mock-program";

const SLOW_SCRIPTS = new Set(["wait-host", "rancher", "kubeadm", "wait-ready"]);

/** The script a loader command runs: the word after the quoted loader (`sudo bash -c '<loader>' NAME ARGS`). */
const scriptOf = (r: Registered): string | undefined =>
  typeof r.inputs.create === "string" ? /"\$@"' ([a-z-]+)/.exec(r.inputs.create)?.[1] : undefined;

export function isSlow(r: Registered): boolean {
  if (r.type === "oci:Core/instance:Instance") return true;
  if (r.type === "command:remote:Command") return SLOW_SCRIPTS.has(scriptOf(r) ?? "");
  if (r.type === "kubernetes:helm.sh/v3:Release") return r.inputs.skipAwait !== true;
  return false;
}

/** The longest chain of slow steps, as names: each resource after its dependencies and its parent's. */
export function longestSlowChain(plan: RunResult): string[] {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const memo = new Map<string, string[]>();
  const chain = (urn: string, path: Set<string>): string[] => {
    const known = memo.get(urn);
    if (known) return known;
    if (path.has(urn)) throw new Error(`a dependency cycle through ${urn}`);
    const r = byUrn.get(urn);
    if (!r) return [];
    path.add(urn);
    let best: string[] = [];
    for (const d of new Set([...r.dependencies, r.parent].filter(Boolean))) {
      const c = chain(d, path);
      if (c.length > best.length) best = c;
    }
    path.delete(urn);
    const mine = isSlow(r) ? [...best, `${r.name} (${scriptOf(r) ?? r.type.split(":").pop()})`] : best;
    memo.set(urn, mine);
    return mine;
  };
  return plan.resources.map((r) => chain(r.urn, new Set())).reduce((a, b) => (b.length > a.length ? b : a), []);
}

describe("the first up of dev: slow steps one after another (issue 24)", () => {
  let plan: RunResult;
  before(async () => {
    plan = await runOk("dev", stackConfig("dev"));
  });

  it("knows the slow steps: instances, host waits, installs, the cluster-ready wait and Helm releases", () => {
    const slow = plan.resources.filter(isSlow).map((r) => r.name);
    for (const name of ["server-1", "micro-1", "server-1-wait", "server-1-install", "micro-1-install", "cluster-ready"])
      assert.ok(slow.includes(name), `${name} is slow`);
    for (const name of ["cert-manager", "argo-cd", "loki", "alloy", "kube-prometheus-stack"])
      assert.ok(slow.includes(name), `${name} is slow`);
    for (const name of ["server-1-drain", "server-1-labels", "cluster-kubeconfig"])
      assert.ok(!slow.includes(name), `${name} is not slow`);
  });

  it("has at most 6 slow steps one after another", () => {
    const chain = longestSlowChain(plan);
    assert.ok(chain.length <= 6, `${chain.length} slow steps one after another:\n  ${chain.join("\n  ")}`);
    // The chain still has what is really needed: a host before its wait, the server before the agents, the nodes before the platform.
    assert.equal(chain.length, 6, chain.join("\n"));
  });
});
