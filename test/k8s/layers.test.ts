/**
 * The layers on their own: the bootstrap and the platform over plain host fixtures, with no
 * config, no stack wiring and no cloud (test/k8s/programs/cluster-on-hosts.ts), and the drain
 * gate that joins them to whatever provides the machines.
 */
import { strict as assert } from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { DrainGate } from "../../k8s/bootstrap/drain-gate";
import { named, ofType, runOk } from "../../scripts/mock-program";

const PROGRAM = path.join(__dirname, "programs", "cluster-on-hosts.ts");
const COMMAND = "command:remote:Command";

describe("layers: Cluster and Platform over plain hosts (no config, no cloud)", () => {
  for (const distribution of ["k3s", "rke2", "kubeadm"]) {
    it(`${distribution}: installs, labels and waits for the hosts it is given, and the platform follows`, async () => {
      process.env.FIXTURE_DISTRIBUTION = distribution;
      try {
        const r = await runOk("layers", {}, { program: PROGRAM });
        assert.deepEqual(
          r.resources.filter((x) => x.type.startsWith("oci:")),
          [],
        );
        for (const c of ofType(r, COMMAND)) {
          assert.ok(["192.0.2.11", "192.0.2.21"].includes(c.inputs.connection.host), `${c.name}`);
          assert.equal(c.inputs.connection.user, "admin");
          assert.match(c.inputs.connection.hostKey, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture/);
        }
        const labels = named(r, COMMAND, "agent-1-labels");
        assert.match(labels.inputs.stdin, /./);
        const ready = named(r, COMMAND, "cluster-ready");
        const release = named(r, "kubernetes:helm.sh/v3:Release", "traefik");
        assert.ok(release.dependencies.includes(ready.urn), "the platform installs after every node is Ready");
        assert.equal(r.outputs.apiUrl, "https://192.0.2.10:6443");
        assert.equal(r.outputs.agentDrain, true, "the gate handed the agent's machine its drain");
      } finally {
        delete process.env.FIXTURE_DISTRIBUTION;
      }
    });
  }
});

describe("layers: the drain gate", () => {
  it("gives a waiting machine its node's drain, and an error (never a hang) when the cluster was not built", async () => {
    const built = new DrainGate(["a"]);
    const drain = {} as pulumi.Resource;
    built.open(new Map([["a", drain]]));
    assert.equal(await built.drainOf("a"), drain);
    assert.equal(built.drainOf("b"), undefined, "a machine that does not wait gets nothing to wait for");

    const failed = new DrainGate(["a"]);
    failed.open(undefined);
    await assert.rejects(failed.drainOf("a")!, /the cluster was not built/);
  });
});
