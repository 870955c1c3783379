/**
 * What this update changes on a running cluster, read from the stack's own last outputs: one
 * minor version up at a time (never a downgrade or another distribution), and machines resized in
 * place. Resized machines wait for their node's drain through the drain gate.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeSpec, StackConfig } from "../config";
import { existingMachine } from "../hosts";
import { DrainGate } from "../k8s/bootstrap/drain-gate";
import { describeRollout, isRolling, planRollout, PreviousCluster } from "../k8s/bootstrap/rollout";
import { refuseVersionChange } from "../k8s/bootstrap/versions";
import type { NodeOutput } from "../outputs";

export interface UpdatePlan {
  /** Nodes take their turns one at a time (a new version or a changed machine). */
  readonly rolling: boolean;
  readonly drainGate: DrainGate;
}

/**
 * A machine as the rollout records and compares it: "VM.Standard.A1.Flex 2 OCPU 12 GB" on Oracle
 * Cloud, "existing arm64 4 GB" for a machine the stack does not create.
 */
export function machineOf(m: { shape?: string; ocpus?: number; arch?: string; memoryGb: number }): string {
  return m.shape ? `${m.shape} ${m.ocpus} OCPU ${m.memoryGb} GB` : existingMachine(m);
}

/** The stack's machines, by name and role, in order (the first server first). */
type Machine = {
  readonly name: string;
  readonly role: string;
  readonly shape?: string;
  readonly ocpus?: number;
  readonly arch?: string;
  readonly memoryGb: number;
};

/**
 * The SSH jump host: the first public node when some are private. Every command to a private node
 * (every drain, too) goes through it, so its own drain cannot run before its resize either.
 */
export function jumpHostOf(nodes: readonly NodeSpec[]): NodeSpec | undefined {
  return nodes.some((n) => n.subnet === "private") ? nodes.find((n) => n.subnet === "public") : undefined;
}

export async function planUpdate(config: StackConfig, nodes: readonly Machine[], jumpHost?: Machine): Promise<UpdatePlan> {
  const machines = nodes.map((n) => ({ name: n.name, machine: machineOf(n) }));
  const rollout = planRollout(await previousCluster(config), config.distributionVersion, machines);
  const firstServer = nodes.find((n) => n.role === "server")!;
  if (isRolling(rollout)) {
    pulumi.log.info(
      `Rolling out node by node, servers first, each drained, changed, Ready and uncordoned before the next:\n  ${describeRollout(rollout).join("\n  ")}`,
    );
  }
  const resized = new Set(rollout.resized.map((n) => n.name));
  if (resized.has(firstServer.name)) {
    pulumi.log.warn(
      `${firstServer.name} is resized in place: Oracle reboots it without a drain (it drains itself over its own SSH connection, which the resize interrupts), and with one server the API is down until it is back.`,
    );
  }
  if (jumpHost && resized.has(jumpHost.name)) {
    pulumi.log.warn(
      `${jumpHost.name} is resized in place without a drain: it is the SSH jump host every drain connects through, so Oracle reboots it first.`,
    );
  }
  resized.delete(firstServer.name);
  if (jumpHost) resized.delete(jumpHost.name);
  return { rolling: isRolling(rollout), drainGate: new DrainGate([...resized]) };
}

/** What the stack's last update left running, or undefined for a new stack; refuses a version step it cannot take. */
async function previousCluster(config: StackConfig): Promise<PreviousCluster | undefined> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const ref = new pulumi.StackReference(`${self}-previous`, { name: self });
  const [distribution, version, nodes] = await Promise.all([
    ref.getOutputDetails("distribution"),
    ref.getOutputDetails("distributionVersion"),
    ref.getOutputDetails("nodes"),
  ]);
  if (typeof distribution.value !== "string" || typeof version.value !== "string") return undefined; // a new stack
  const refusal = refuseVersionChange({
    distribution: config.distribution,
    from: { distribution: distribution.value, version: version.value },
    to: config.distributionVersion,
  });
  if (refusal) throw new Error(`${refusal}\nNothing was changed.`);
  const previous = Array.isArray(nodes.value) ? (nodes.value as NodeOutput[]) : [];
  return { version: version.value, nodes: previous.map((n) => ({ name: n.name, machine: machineOf(n) })) };
}
