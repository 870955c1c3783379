/** Shared by the bootstrap tests: fixtures and helpers. */
import { strict as assert } from "assert";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, MOCK_JOIN, MOCK_TOKEN, named, Registered, RunResult, runOk } from "../../scripts/mock-program";

export const COMMAND = "command:remote:Command";
export const INSTANCE = "oci:Core/instance:Instance";

export const oneServer = [
  { name: "server-1", role: "server", ocpus: 1 },
  { name: "agent-1", role: "agent", ocpus: 1 },
  { name: "micro-1", role: "agent", shape: "VM.Standard.E2.1.Micro" },
];
/** An HA control plane at $0: two A1 servers and an etcd-only micro, and a micro agent. */
export const freeHa = [
  { name: "server-1", role: "server", ocpus: 1, memoryGb: 6 },
  { name: "server-2", role: "server", ocpus: 1, memoryGb: 6 },
  { name: "etcd-1", role: "etcd", shape: "VM.Standard.E2.1.Micro" },
  { name: "micro-1", role: "agent", shape: "VM.Standard.E2.1.Micro" },
];
export const threeServers = [
  { name: "server-1", role: "server", ocpus: 2, memoryGb: 8 },
  { name: "server-2", role: "server", ocpus: 1, memoryGb: 8 },
  { name: "server-3", role: "server", ocpus: 1, memoryGb: 8 },
  { name: "micro-1", role: "agent", shape: "VM.Standard.E2.1.Micro" },
];

export async function run(distribution: string, nodes: unknown[], extra: Record<string, unknown> = {}): Promise<RunResult> {
  // Three A1 servers exceed the free 2 OCPU: an HA shape billed on a payg tenancy.
  const tier = nodes.length > 3 ? { tier: "payg", acceptCharges: true, budgetAmount: 50 } : {};
  return runOk("boot", { ...MINIMAL_CONFIG, ...tier, distribution, nodes, ...extra });
}

export const cmd = (r: RunResult, name: string) => named(r, COMMAND, name);
export const settingsOf = (c: Registered) => decodeSettings(c.inputs.stdin);
export const ipOf = (r: RunResult, node: string) =>
  (r.outputs.nodes as { name: string; privateIp: string }[]).find((n) => n.name === node)!.privateIp;
export const dependsOn = (c: Registered, other: Registered) => c.dependencies.includes(other.urn);
/** Whether `c` waits for `other`, directly or through what it waits for. */
export function reaches(r: RunResult, c: Registered, other: Registered): boolean {
  const byUrn = new Map(r.resources.map((x) => [x.urn, x]));
  const seen = new Set<string>();
  const todo = [...c.dependencies];
  while (todo.length > 0) {
    const urn = todo.pop()!;
    if (urn === other.urn) return true;
    if (seen.has(urn)) continue;
    seen.add(urn);
    todo.push(...(byUrn.get(urn)?.dependencies ?? []));
  }
  return false;
}

/** Registration completes (a dependency cycle through an instance's outputs never does). */
export async function completes<T>(run: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the program never finished registering: a dependency cycle")), 30_000);
  });
  try {
    return await Promise.race([run, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every value a resource was given that is not marked secret, as text. */
export function plainInputs(r: RunResult): string[] {
  return r.resources.flatMap((x) =>
    Object.entries(x.inputs)
      .filter(([k]) => !x.secretInputs.includes(k))
      .map(([k, v]) => `${x.type}::${x.name}.${k}=${JSON.stringify(v)}`),
  );
}

export function assertNoSecretInPlainText(r: RunResult) {
  const secrets = [MOCK_TOKEN, MOCK_JOIN.JOIN_TOKEN, MOCK_JOIN.CERTIFICATE_KEY, "TU9DSy1LRVk=" /* kubeconfig client key */];
  for (const text of plainInputs(r)) {
    for (const s of secrets) assert.ok(!text.includes(s), `a secret appears unmasked in ${text.slice(0, 160)}`);
  }
  for (const [k, v] of Object.entries(r.outputs)) {
    if (r.secretOutputs.includes(k)) continue;
    for (const s of secrets) assert.ok(!JSON.stringify(v ?? null).includes(s), `output ${k} shows a secret`);
  }
}
