/** The capacity refusal suggests only what would lower the requests that do not fit: never a change the stack already made. */
import { strict as assert } from "assert";
import { MINIMAL_CONFIG, runProgram } from "../../scripts/mock-program";
import { EVERY_ADDON } from "./platform.fixtures";

const SMALL_SERVER = { nodes: [{ name: "server-1", role: "server", ocpus: 1, memoryGb: 3 }] };

/** The refusal's figures: requested and allocatable on the general nodes, and each component's request there. */
function figures(message: string) {
  const [, requested, allocatable] = /\((\d+) Mi of (\d+) Mi allocatable on the general nodes\)/.exec(message)!.map(Number);
  const rows = new Map([...message.matchAll(/^([a-z0-9-]+) +\S+ +(\d+) Mi +\d+ Mi$/gm)].map((m) => [m[1], Number(m[2])]));
  return { requested, allocatable, rows };
}

describe("platform capacity: the refusal's advice", () => {
  it("for a stack that already turned everything off, suggests neither addons nor the lighter monitoring, only more memory", async () => {
    const r = await runProgram("small", { ...MINIMAL_CONFIG, ...SMALL_SERVER, monitoring: "victoria-metrics-k8s-stack" });
    assert.ok(r.error, "the platform should not fit 3 GB");
    const message = r.error!.message;
    const { requested, allocatable } = figures(message);
    assert.doesNotMatch(message, /remove addons|disable addons/i);
    assert.match(message, /No addon is on/);
    assert.doesNotMatch(message, /victoria-metrics-k8s-stack instead|choose victoria/);
    assert.match(message, /every choice is already its lightest pick/);
    assert.ok(
      message.includes(`give the general nodes ${requested - allocatable} Mi more allocatable memory`),
      message.split("\n").at(-1),
    );
    assert.deepEqual(r.resources, []);
  });

  it("names each enabled addon with its request, and a lighter pick with what it saves", async () => {
    const r = await runProgram("small", { ...MINIMAL_CONFIG, ...EVERY_ADDON, ...SMALL_SERVER });
    const message = r.error!.message;
    const { requested, allocatable, rows } = figures(message);
    const advice = message.split("\n").at(-1)!;
    assert.ok(advice.startsWith(`To fit, ${requested - allocatable} Mi must go: `), advice);
    for (const addon of EVERY_ADDON.addons)
      if (rows.get(addon)! > 0) assert.ok(advice.includes(`${addon}: ${rows.get(addon)} Mi`), `${addon} in: ${advice}`);
    // What VictoriaMetrics requests on this node, from a run that picks it.
    const vm = await runProgram("small", {
      ...MINIMAL_CONFIG,
      ...EVERY_ADDON,
      ...SMALL_SERVER,
      monitoring: "victoria-metrics-k8s-stack",
    });
    const saves = rows.get("kube-prometheus-stack")! - figures(vm.error!.message).rows.get("victoria-metrics-k8s-stack")!;
    assert.ok(saves > 0);
    assert.ok(
      advice.includes(`set monitoring: victoria-metrics-k8s-stack instead of kube-prometheus-stack (${saves} Mi less)`),
      advice,
    );
    // Every pick it suggests saves memory.
    for (const m of advice.matchAll(/\((-?\d+) Mi less\)/g)) assert.ok(Number(m[1]) > 0, advice);
  });
});
