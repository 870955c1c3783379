/** The cluster bootstrap under the mock runtime: the command graph, settings and secrets, per distribution and topology. */
import { stackBucket } from "./recovery.fixtures";
import { strict as assert } from "assert";
import { parse } from "yaml";

import { MINIMAL_CONFIG, named, ofType, RunResult, runProgram, runOk } from "../../scripts/mock-program";
import {
  COMMAND,
  INSTANCE,
  oneServer,
  freeHa,
  threeServers,
  run,
  cmd,
  settingsOf,
  ipOf,
  dependsOn,
  reaches,
  completes,
  plainInputs,
} from "./bootstrap.fixtures";

describe("bootstrap: changes", () => {
  const commandInputs = (r: RunResult) =>
    new Map(ofType(r, COMMAND).map((c) => [c.name, JSON.stringify({ inputs: c.inputs, deps: c.dependencies })]));

  it("a second run of the same stack gives every command the same inputs, so none runs again", async () => {
    const a = commandInputs(await run("k3s", oneServer));
    const b = commandInputs(await run("k3s", oneServer));
    assert.ok(a.size > 10);
    assert.deepEqual([...b.entries()], [...a.entries()]);
  });

  it("changing a node's labels changes only its labels command: no reinstall", async () => {
    const before = commandInputs(await run("k3s", oneServer));
    const relabelled = oneServer.map((n) => (n.name === "agent-1" ? { ...n, ingress: false } : n));
    const after = commandInputs(await run("k3s", relabelled));
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k));
    assert.deepEqual(changed, ["agent-1-labels"]);
  });

  it("adding an agent joins it without touching any other node", async () => {
    const all = (r: RunResult) =>
      new Map(r.resources.filter((x) => !x.read).map((x) => [`${x.type}::${x.name}`, JSON.stringify(x.inputs)]));
    const before = all(await run("k3s", oneServer));
    const after = all(await run("k3s", [...oneServer, { name: "micro-2", role: "agent", shape: "VM.Standard.E2.1.Micro" }]));
    const changed = [...before.keys()].filter((k) => after.get(k) !== before.get(k));
    // Only the readiness check (which now waits for one more node) and Oracle's guards change;
    // the rest is new. The quota follows the plan (one more micro, its 50 GB boot volume: 150 to
    // 200 GB); four nodes make the fixture a payg stack that accepts charges, so the budget and
    // its alert take its budgetAmount.
    assert.deepEqual(changed.sort(), [
      "command:remote:Command::cluster-ready",
      "oci:Budget/budget:Budget::budget",
      "oci:Budget/rule:Rule::budget-alert",
      "oci:Limits/quota:Quota::quota",
    ]);
    const statements = (inputs: string) => (JSON.parse(inputs).statements as string[]).filter((x) => /micro|storage/.test(x));
    assert.deepEqual(statements(after.get("oci:Limits/quota:Quota::quota")!), [
      "set compute-core quota standard-e2-micro-core-count to 2 in compartment oci-k8s",
      "set block-storage quota total-storage-gb to 200 in compartment oci-k8s",
    ]);
    const added = [...after.keys()].filter((k) => !before.has(k)).map((k) => k.split("::")[1]);
    assert.ok(
      added.every((name) => name.startsWith("micro-2")),
      added.join(", "),
    );
  });

  it("kernelHold holds or releases the kernel on every node, and toggling it re-runs only those commands", async () => {
    const before = commandInputs(await run("k3s", oneServer));
    const held = await run("k3s", oneServer, { kernelHold: true });
    for (const n of oneServer) assert.match(cmd(held, `${n.name}-kernel`).inputs.create, / kernel-hold hold$/);
    assert.match(cmd(await run("k3s", oneServer), "server-1-kernel").inputs.create, / kernel-hold release$/);
    const after = commandInputs(held);
    const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k));
    assert.deepEqual(changed.sort(), oneServer.map((n) => `${n.name}-kernel`).sort());
  });

  it("a different version re-runs the installs with the new version", async () => {
    const r = await run("k3s", oneServer, { distributionVersion: "v1.34.10+k3s1" });
    assert.equal(settingsOf(cmd(r, "server-1-install")).VERSION, "v1.34.10+k3s1");
  });

  /** The stack's last outputs, as a StackReference to itself reads them. */
  const previously = (
    version: string,
    nodes: { name: string; role: string; shape?: string; ocpus?: number; memoryGb?: number }[],
  ) => ({
    stackOutputs: {
      "organization/oci-k8s/boot": {
        distribution: "k3s",
        distributionVersion: version,
        nodes: nodes.map((n) => ({
          name: n.name,
          role: n.role,
          shape: n.shape ?? "VM.Standard.A1.Flex",
          ocpus: n.shape ? 0.125 : (n.ocpus ?? 1),
          memoryGb: n.shape ? 1 : (n.memoryGb ?? 6),
        })),
      },
    },
  });
  const runWith = (nodes: unknown[], world: ReturnType<typeof previously>, extra: Record<string, unknown> = {}) =>
    runOk(
      "boot",
      { ...MINIMAL_CONFIG, tier: "payg", acceptCharges: true, budgetAmount: 50, distribution: "k3s", nodes, ...extra },
      world,
    );

  it("a new version rolls node by node: servers, then agents, each drained, installed and uncordoned before the next", async () => {
    const r = await runWith(threeServers, previously("v1.34.9+k3s1", threeServers), { distributionVersion: "v1.35.2+k3s1" });
    const order = ["server-1", "server-2", "server-3", "micro-1"];
    for (const [i, n] of order.entries()) {
      const [drain, install, uncordon] = ["drain", "install", "uncordon"].map((step) => cmd(r, `${n}-${step}`));
      assert.equal(settingsOf(install).VERSION, "v1.35.2+k3s1");
      assert.equal(settingsOf(drain).VERSION, "v1.35.2+k3s1");
      assert.ok(dependsOn(install, drain) && dependsOn(uncordon, install), `${n}: drain, install, uncordon`);
      if (i > 0) assert.ok(dependsOn(drain, cmd(r, `${order[i - 1]}-uncordon`)), `${n} does not wait for ${order[i - 1]}`);
    }
    // Without a change, the agent joins in parallel with the other servers again.
    const steady = await runWith(threeServers, previously("v1.35.2+k3s1", threeServers), { distributionVersion: "v1.35.2+k3s1" });
    assert.ok(!reaches(steady, cmd(steady, "micro-1-install"), cmd(steady, "server-3-install")));
  });

  it("every drain and uncordon gets the stack's rolloutDrainTimeout and rolloutForce (600 s and false unless set)", async () => {
    const plain = await run("k3s", oneServer);
    const set = await run("k3s", oneServer, { rolloutDrainTimeout: 1800, rolloutForce: true });
    const rolloutOf = (r: RunResult, name: string) => {
      const { DRAIN_TIMEOUT, FORCE } = settingsOf(cmd(r, name));
      return [DRAIN_TIMEOUT, FORCE];
    };
    for (const n of oneServer.map((x) => (x as { name: string }).name)) {
      for (const step of ["drain", "uncordon"]) {
        assert.deepEqual(rolloutOf(plain, `${n}-${step}`), ["600s", "false"]);
        assert.deepEqual(rolloutOf(set, `${n}-${step}`), ["1800s", "true"]);
      }
    }
  });

  it("resizing a node drains it before Oracle reboots it into the new size, one node at a time", async () => {
    const resized = oneServer.map((n) => (n.name === "agent-1" ? { ...n, memoryGb: 6 } : n));
    const r = await runWith(
      resized,
      previously(
        "v1.34.9+k3s1",
        oneServer.map((n) => (n.name === "agent-1" ? { ...n, memoryGb: 4 } : n)),
      ),
    );
    const instance = named(r, INSTANCE, "agent-1");
    assert.ok(dependsOn(instance, cmd(r, "agent-1-drain")), "the resized instance does not wait for its drain");
    assert.match(settingsOf(cmd(r, "agent-1-drain")).MACHINE, /A1\.Flex 1 OCPU 6 GB$/);
    // Rolling: the micro agent waits its turn after agent-1.
    assert.ok(dependsOn(cmd(r, "micro-1-drain"), cmd(r, "agent-1-uncordon")));
    // Nothing else waits for a drain.
    assert.deepEqual(
      ofType(r, INSTANCE)
        .filter((x) => x.dependencies.some((d) => d.includes("-drain")))
        .map((x) => x.name),
      ["agent-1"],
    );
  });

  const resizedServers: Record<string, string[]> = {
    "the second server": ["server-2"],
    "the third server": ["server-3"],
    "the second and third servers at once": ["server-2", "server-3"],
  };
  for (const [what, names] of Object.entries(resizedServers)) {
    it(`resizing ${what} of three completes: each waits for its drain, in turn`, async () => {
      const resized = threeServers.map((n) => (names.includes(n.name) ? { ...n, memoryGb: 6 } : n));
      const r = await completes(runWith(resized, previously("v1.34.9+k3s1", threeServers)));
      for (const name of names) {
        assert.ok(dependsOn(named(r, INSTANCE, name), cmd(r, `${name}-drain`)), `${name} does not wait for its drain`);
        assert.ok(reaches(r, cmd(r, `${name}-install`), named(r, INSTANCE, name)));
        assert.ok(dependsOn(cmd(r, `${name}-uncordon`), cmd(r, `${name}-install`)));
      }
      // Servers keep their turns: server-3's drain comes after server-2 is back.
      assert.ok(reaches(r, cmd(r, "server-3-drain"), cmd(r, "server-2-uncordon")));
      assert.deepEqual(
        ofType(r, INSTANCE)
          .filter((x) => x.dependencies.some((d) => d.includes("-drain")))
          .map((x) => x.name)
          .sort(),
        names,
      );
    });
  }

  it("resizing the SSH jump host completes (every drain goes through it, so it reboots undrained)", async () => {
    const nodes = [
      { name: "server-1", role: "server", ocpus: 1, memoryGb: 6, subnet: "private" },
      { name: "jump", role: "agent", ocpus: 1, memoryGb: 6, subnet: "public" },
    ];
    const resized = nodes.map((n) => (n.name === "jump" ? { ...n, memoryGb: 5 } : n));
    const r = await completes(runWith(resized, previously("v1.34.9+k3s1", nodes), { natGateway: true }));
    assert.ok(!named(r, INSTANCE, "jump").dependencies.some((d) => d.includes("-drain")));
    assert.ok(cmd(r, "server-1-drain").inputs.connection.proxy, "drains reach private nodes through the jump host");
  });

  it("resizing the first server completes too (it reboots undrained, with a warning)", async () => {
    const resized = threeServers.map((n) => (n.name === "server-1" ? { ...n, memoryGb: 6 } : n));
    const r = await completes(runWith(resized, previously("v1.34.9+k3s1", threeServers)));
    assert.ok(!named(r, INSTANCE, "server-1").dependencies.some((d) => d.includes("-drain")));
  });

  it("a replaced server leaves first: its etcd member is removed before the instance goes and before the new one joins", async () => {
    const r = await runWith(threeServers, previously("v1.34.9+k3s1", threeServers));
    for (const i of ofType(r, INSTANCE)) assert.equal(i.deleteBeforeReplace, true, `${i.name} is replaced create-first`);
    // What Pulumi replaces along with server-2's instance (delete before replace): every resource
    // whose inputs carry its ID. Those are deleted first, dependents before what they depend on.
    const replaced = r.resources.filter((x) => JSON.stringify(x.inputs).includes('"server-2-id"'));
    const names = new Set(replaced.map((x) => x.name));
    for (const n of ["server-2-retire", "server-2-uninstall", "server-2-install", "server-2-uncordon"])
      assert.ok(names.has(n), `${n} is not replaced with the machine`);
    assert.ok(!names.has("server-3-retire") && !names.has("micro-1-install"), "another node's commands go with server-2");
    // Sorted among the deletes alone: "reaches" is a partial order, which sort() cannot take over
    // resources that are unrelated to each other.
    const deletes = replaced
      .filter((x) => x.inputs.delete)
      .sort((a, b) => (reaches(r, a, b) ? -1 : reaches(r, b, a) ? 1 : 0))
      .map((x) => x.name);
    assert.deepEqual(deletes, ["server-2-retire", "server-2-uninstall"]);
    assert.match(cmd(r, "server-2-retire").inputs.delete, / remove-node server-2 10\.0\.\d+\.\d+ server k3s k3s kubectl$/);
    // The old guards' deletes run before anything of the new machine is created (delete before
    // replace); the new install joins after its uninstall guard and the instance exist again.
    assert.ok(reaches(r, cmd(r, "server-2-retire"), cmd(r, "server-2-uninstall")));
    assert.ok(reaches(r, cmd(r, "server-2-install"), cmd(r, "server-2-uninstall")));
    assert.ok(reaches(r, cmd(r, "server-2-install"), named(r, INSTANCE, "server-2")));
  });

  /** A private server reached through a public micro jump host. */
  const BEHIND_JUMP_HOST = {
    ...MINIMAL_CONFIG,
    tier: "payg",
    natGateway: true,
    nodes: [
      { name: "server-1", role: "server", ocpus: 2 },
      { name: "jump", role: "agent", shape: "VM.Standard.E2.1.Micro", subnet: "public" },
    ],
  };

  it("every connection pins its node's own SSH host key, the bastion hop the jump host's; the private key stays secret", async () => {
    const r = await runOk("keys", BEHIND_JUMP_HOST);
    const keyOf = (node: string) => named(r, "tls:index/privateKey:PrivateKey", `${node}-host-key`);
    assert.equal(keyOf("server-1").inputs.algorithm, "ED25519");
    const pub = (node: string) =>
      `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGeneratedByTheMockRuntimeOnly${node.replace(/-/g, "")}hostkey`;
    const commands = ofType(r, COMMAND);
    assert.ok(commands.length > 10);
    for (const c of commands) {
      const target = c.inputs.connection.host === ipOf(r, "server-1") ? "server-1" : "jump";
      assert.equal(c.inputs.connection.hostKey, pub(target), `${c.name} pins another key than ${target}'s`);
      if (c.inputs.connection.proxy) assert.equal(c.inputs.connection.proxy.hostKey, pub("jump"), c.name);
    }
    // The host private key reaches the node only inside its user data, which is secret.
    for (const i of ofType(r, INSTANCE)) assert.ok(i.secretInputs.includes("metadata"), `${i.name}: user data not secret`);
    assert.ok(!plainInputs(r).some((t) => t.includes("mock-private-key-server-1-host-key")));
  });

  it("no command offers its previous stdout (kubeconfig, join material) to the next run as an SSH variable", async () => {
    for (const r of [await run("k3s", threeServers), await run("kubeadm", threeServers)]) {
      const commands = ofType(r, COMMAND);
      assert.ok(commands.length > 10);
      for (const c of commands) assert.equal(c.inputs.addPreviousOutputInEnv, false, c.name);
    }
  });

  it("reaches private nodes through the public jump host", async () => {
    const r = await runProgram("prd", BEHIND_JUMP_HOST);
    if (r.error) throw r.error;
    const server = cmd(r, "server-1-install").inputs.connection;
    assert.equal(server.host, ipOf(r, "server-1"));
    const jumpIp = named(r, INSTANCE, "jump").inputs.createVnicDetails.assignPublicIp === "true";
    assert.ok(jumpIp);
    assert.match(server.proxy.host, /^198\.51\.100\./);
    assert.equal(cmd(r, "jump-install").inputs.connection.proxy, undefined);
  });
});

describe("bootstrap: etcd snapshots", () => {
  const S3 = stackBucket();

  it("schedules snapshots on every server by default, and uploads them to the bucket when one is set", async () => {
    const plain = await runOk("boot", { ...MINIMAL_CONFIG, distribution: "k3s", nodes: [...oneServer] });
    const local = parse(settingsOf(named(plain, COMMAND, "server-1-install")).CONFIG);
    assert.equal(local["etcd-snapshot-schedule-cron"], "0 */6 * * *");
    assert.equal(local["etcd-snapshot-retention"], 28);
    assert.equal(local["etcd-s3"], undefined);

    for (const distribution of ["k3s", "rke2"]) {
      const r = await runOk("boot", { ...MINIMAL_CONFIG, distribution, nodes: [...oneServer], ...S3 });
      const server = parse(settingsOf(named(r, COMMAND, "server-1-install")).CONFIG);
      assert.equal(server["etcd-s3"], true);
      assert.equal(server["etcd-s3-bucket"], "oci-k8s-etcd");
      assert.equal(server["etcd-s3-endpoint"], S3.etcdBackupEndpoint);
      assert.equal(server["etcd-s3-bucket-lookup-type"], "path");
      assert.equal(server["etcd-s3-folder"], "oci-k8s-boot");
      assert.equal(server["etcd-s3-secret-key"], S3.etcdBackupSecretKey);
      const agent = parse(settingsOf(named(r, COMMAND, "agent-1-install")).CONFIG);
      assert.equal(agent["etcd-s3"], undefined, "agents run no etcd");
      for (const text of plainInputs(r))
        assert.ok(!text.includes(S3.etcdBackupSecretKey), `the bucket key leaks in ${text.slice(0, 120)}`);
      // The restore tool is installed on etcd members only.
      const tool = named(r, COMMAND, "server-1-restore-tool");
      assert.match(settingsOf(tool).SCRIPT, /oci-k8s-etcd-restore DIST restore SNAPSHOT/);
      assert.match(tool.inputs.create, / etcd-restore install$/);
      assert.equal(settingsOf(tool).MEMBERS, "", "a one-server cluster has no other member");
      assert.throws(() => named(r, COMMAND, "agent-1-restore-tool"));
    }
  });

  it("every etcd member gets the restore tool, the etcd-only one included, with the other members' addresses", async () => {
    // RKE2 refuses an etcd-only member on a 1 GB micro (its etcd is a static pod): an A1 one there.
    const rke2Ha = [...freeHa.filter((n) => n.name !== "etcd-1"), { name: "etcd-1", role: "etcd", ocpus: 1, memoryGb: 4 }];
    for (const distribution of ["k3s", "rke2"]) {
      const nodes = distribution === "rke2" ? rke2Ha : freeHa;
      const extra = distribution === "rke2" ? { tier: "payg", acceptCharges: true, budgetAmount: 50 } : {};
      const r = await runOk("boot", { ...MINIMAL_CONFIG, ...extra, distribution, nodes, ...S3 });
      const ips = Object.fromEntries(
        ["server-1", "server-2", "etcd-1"].map((n) => [n, settingsOf(named(r, COMMAND, `${n}-install`)).CONFIG]),
      );
      const members: Record<string, string[]> = {};
      for (const n of ["server-1", "server-2", "etcd-1"]) {
        members[n] = settingsOf(named(r, COMMAND, `${n}-restore-tool`)).MEMBERS.split("\n");
        assert.equal(members[n].length, 2, `${n}: ${members[n].join(",")}`);
        const own = parse(ips[n])["node-ip"];
        if (own) assert.ok(!members[n].includes(String(own)), `${n} lists itself`);
      }
      assert.throws(() => named(r, COMMAND, "micro-1-restore-tool"));
    }
  });

  it("kubeadm servers get the snapshot tool on cron, with the bucket keys on stdin only, and the restore tool", async () => {
    const r = await runOk("boot", { ...MINIMAL_CONFIG, distribution: "kubeadm", nodes: [...oneServer], ...S3 });
    assert.doesNotMatch(settingsOf(named(r, COMMAND, "server-1-install")).CONFIG, /etcd-snapshot/);
    const tool = named(r, COMMAND, "server-1-etcd-snapshots");
    assert.match(tool.inputs.create, / etcd-snapshot install$/);
    assert.ok(tool.secretInputs.includes("stdin"));
    const settings = settingsOf(tool);
    assert.equal(settings.SCHEDULE, "0 */6 * * *");
    assert.equal(settings.RETENTION, "28");
    assert.equal(settings.S3_BUCKET, "oci-k8s-etcd");
    assert.equal(settings.S3_SECRET_KEY, S3.etcdBackupSecretKey);
    assert.match(settings.SCRIPT, /oci-k8s-etcd-snapshot run/);
    for (const text of plainInputs(r))
      assert.ok(!text.includes(S3.etcdBackupSecretKey), `the bucket key leaks in ${text.slice(0, 120)}`);
    assert.throws(() => named(r, COMMAND, "agent-1-etcd-snapshots"));
    assert.match(settingsOf(named(r, COMMAND, "server-1-restore-tool")).SCRIPT, /oci-k8s-etcd-restore DIST restore SNAPSHOT/);
    // k3s and RKE2 take their snapshots themselves.
    const k3s = await runOk("boot", { ...MINIMAL_CONFIG, distribution: "k3s", nodes: [...oneServer], ...S3 });
    assert.throws(() => named(k3s, COMMAND, "server-1-etcd-snapshots"));
  });

  it("with a bucket every server (not agents or etcd-only members) uploads its recovery bundle, encrypted to the certificate; the keys on stdin only", async () => {
    const plain = await runOk("boot", { ...MINIMAL_CONFIG, distribution: "k3s", nodes: [...oneServer] });
    assert.throws(() => named(plain, COMMAND, "server-1-recovery"), "no bucket, no bundle");
    for (const [distribution, kubectl] of [
      ["k3s", "k3s kubectl"],
      ["rke2", "/var/lib/rancher/rke2/bin/kubectl --kubeconfig /etc/rancher/rke2/rke2.yaml"],
      ["kubeadm", "kubectl --kubeconfig /etc/kubernetes/admin.conf"],
    ]) {
      const r = await runOk("boot", { ...MINIMAL_CONFIG, distribution, nodes: [...oneServer], ...S3 });
      const tool = named(r, COMMAND, "server-1-recovery");
      assert.match(tool.inputs.create, / recovery install$/);
      assert.ok(tool.secretInputs.includes("stdin"));
      const settings = settingsOf(tool);
      assert.equal(settings.DIST, distribution);
      assert.equal(settings.KUBECTL, kubectl);
      assert.equal(settings.SCHEDULE, "0 */6 * * *");
      assert.equal(settings.RECOVERY_CERTIFICATE, S3.etcdBackupRecoveryCertificate);
      assert.equal(settings.S3_FOLDER, "oci-k8s-boot");
      assert.equal(settings.S3_SECRET_KEY, S3.etcdBackupSecretKey);
      assert.match(settings.SCRIPT, /oci-k8s-recovery run/);
      assert.throws(() => named(r, COMMAND, "agent-1-recovery"));
      for (const text of plainInputs(r))
        assert.ok(!text.includes(S3.etcdBackupSecretKey), `the bucket key leaks in ${text.slice(0, 120)}`);
    }
  });
});
