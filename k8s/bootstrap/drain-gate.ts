/**
 * The drain gate: a machine about to change in place (a resize, which reboots it) must wait for
 * its node's drain, but the drain is made by the cluster, which is built on the machines. The gate
 * breaks that knot: the infrastructure asks it for a node's drain before the cluster exists, and
 * the cluster opens it with the drains it made, or with none when it failed, so every waiting
 * machine gets its drain or an error, never a hang.
 */
import type * as pulumi from "@pulumi/pulumi";

interface Waiting {
  readonly promise: Promise<pulumi.Resource>;
  readonly settle: (drain: pulumi.Resource | undefined) => void;
}

export class DrainGate {
  private readonly waiting: ReadonlyMap<string, Waiting>;
  private opened = false;

  /** `nodes`: the nodes whose machines wait for their drain. */
  constructor(nodes: readonly string[]) {
    this.waiting = new Map(nodes.map((name) => [name, waiter()]));
  }

  /** What the node's machine waits for before it changes; undefined for a node that does not wait. */
  drainOf(node: string): Promise<pulumi.Resource> | undefined {
    return this.waiting.get(node)?.promise;
  }

  /** Hands each waiting machine its node's drain; a node without one (or a cluster never built) gets an error. */
  open(drains: ReadonlyMap<string, pulumi.Resource> | undefined): void {
    if (this.opened) return;
    this.opened = true;
    for (const [name, w] of this.waiting) w.settle(drains?.get(name));
  }
}

function waiter(): Waiting {
  let resolve!: (value: pulumi.Resource) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<pulumi.Resource>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  // A rejection nobody awaited yet must not crash the process before the engine reads it.
  promise.catch(() => undefined);
  return {
    promise,
    settle: (drain) => (drain === undefined ? reject(new Error("the cluster was not built")) : resolve(drain)),
  };
}
