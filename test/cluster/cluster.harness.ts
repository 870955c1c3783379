/**
 * The cluster suite's harness (test/cluster/kubeadm-cluster.test.ts): the booted machines, the
 * artifact mirror and the balancer, and `pulumi up` of the stack run as the engine would, over SSH.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { Registered, ROOT, RunResult, runOk, stackConfigFrom } from "../../scripts/mock-program";
import { must, requireFile, requireRoot, requireTool, tempDir } from "../tools";
import { MIRROR, serveMirror } from "../machines/existing-hosts.fixtures";
import {
  createSuiteNetwork,
  destroySuiteNetwork,
  inSuite,
  Machine,
  PUBLIC_NET,
  rootfs,
  SUITE_NS,
  waitFor,
} from "../machines/machine";
import { COMMAND, engineOrder, Step, stdinOf, updateSteps } from "../machines/plan";
import { BALANCER, BALANCER_PY, KUBE_BIN, KUBECTL, mirrorFiles, PREVIOUS_BIN, showKernelSettings } from "./cluster.fixtures";
import { keyPair, SshClient } from "../machines/ssh";

const USER = "debian";
/** The registered commands whose output the program reads back. */
const READ_STDOUT = /-(re)?join-material$|-kubeconfig$/;
const ADMIN = PUBLIC_NET.gateway;
/** Servers and agents: CLUSTER_SERVERS / CLUSTER_AGENTS (default 3 and 1, the cluster). */
export const SERVERS = Number(process.env.CLUSTER_SERVERS ?? 3);
export const AGENTS = Number(process.env.CLUSTER_AGENTS ?? 1);
/** The release one patch before the pin: tools/kube/previous/go.mod's (test/k8s/kube-builds.test.ts ties the two). */
export const PREVIOUS_VERSION = /^require k8s\.io\/kubernetes (\S+)$/m.exec(
  fs.readFileSync(path.join(ROOT, "tools", "kube", "previous", "go.mod"), "utf8"),
)![1];

export interface Node {
  /** Its name in the stack (the machine's own name differs for a replacement). */
  readonly name: string;
  readonly machine: Machine;
  readonly hostKey: string;
  readonly role: "server" | "agent";
}

export class KubeadmCluster {
  readonly nodes: Node[] = [];
  /** Machines replaced in the stack, kept until the end. */
  readonly retired: Node[] = [];
  dir = "";
  client!: SshClient;
  mirror: ChildProcess | undefined;
  balancer: ChildProcess | undefined;
  stackConfig: Record<string, unknown> = {};
  readonly printed: Record<string, string> = {};
  readonly results: { name: string; status: number; seconds: number }[] = [];
  plan!: RunResult;
  initStarted = 0;

  /** The stack's outputs as the last `pulumi up` left them (the program reads them back: rollouts). */
  running: Record<string, unknown> | undefined;
  mirrorDir = "";
  planNow = () =>
    runOk("cluster", this.stackConfig, {
      commandStdout: this.printed,
      ...(this.running ? { stackOutputs: { "organization/oci-k8s/cluster": this.running } } : {}),
    });
  /** The stack on a release: its files in the mirror (KUBE: tools/kube/bin or its previous/), their pins, its version. */
  release(kube: string, version: string) {
    const pins: Record<string, string> = {};
    for (const [name, file] of Object.entries(mirrorFiles(this.mirrorDir, kube)))
      pins[name] = must("sha256sum", [fs.realpathSync(file)]).split(" ")[0];
    this.stackConfig = { ...this.stackConfig, "oci-k8s:artifactSha256": pins, "oci-k8s:distributionVersion": version };
  }
  /** kubectl with the program's admin kubeconfig, from the admin's address; INPUT is its stdin. */
  private kubectlWith = (args: string[], input?: string) =>
    inSuite(KUBECTL, ["--kubeconfig", path.join(this.dir, "admin.conf"), ...args], { input, timeout: 300_000 });
  kubectl = (...args: string[]) => this.kubectlWith(args);
  /** kubectl apply of MANIFEST, with the API server's strict field validation (an unknown field fails). */
  kubectlApply = (manifest: string) => this.kubectlWith(["apply", "--validate=strict", "-f", "-"], manifest);
  /** The cluster is healthy: exactly NAMES are nodes, each Ready and schedulable on VERSION, and every system pod is Ready. */
  assertHealthy(names: string[], version: string) {
    const got = this.kubectl(
      "get",
      "nodes",
      "-o",
      `jsonpath={range .items[*]}{.metadata.name} {.status.nodeInfo.kubeletVersion} {.spec.unschedulable} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}`,
    );
    assert.equal(got.status, 0, got.stderr);
    console.log(got.stdout);
    assert.deepEqual(got.stdout.trim().split("\n").sort(), names.map((n) => `${n} ${version}  True`).sort());
    for (const ns of ["kube-system", "kube-flannel"]) {
      // A DaemonSet an upgrade changed (kube-proxy) rolls on after the last node's turn.
      for (const kind of ["daemonset", "deployment"])
        for (const name of this.kubectl("-n", ns, "get", kind, "-o", "name").stdout.trim().split("\n").filter(Boolean)) {
          const r = this.kubectl("-n", ns, "rollout", "status", name, "--timeout=240s");
          assert.equal(r.status, 0, `${name} did not roll out:\n${r.stdout}${r.stderr}`);
        }
      const w = this.kubectl("-n", ns, "wait", "--for=condition=Ready", "pods", "--all", "--timeout=240s");
      assert.equal(w.status, 0, `system pods not Ready:\n${w.stdout}${w.stderr}\n${this.kubectl("get", "pods", "-A").stdout}`);
    }
  }
  firstServer = () => this.nodes.find((n) => n.role === "server")!;
  onFirst = (command: string) =>
    this.client.run(USER, this.firstServer().machine.address, this.firstServer().hostKey, command, "", 300_000);

  runStep(step: Step, timeout = 900_000) {
    const conn = step.connection;
    const started = Date.now();
    const r = this.client.run(conn.user, conn.host, conn.hostKey, step.run, step.stdin, timeout);
    this.results.push({ name: `${step.command.name} (${step.op})`, status: r.status, seconds: (Date.now() - started) / 1000 });
    return r;
  }
  readonly shown = new Set<Node>();
  /** prepare wrote the node's kernel settings; the machine cannot apply them (see above). */
  showKernel(n: Node) {
    if (!this.shown.has(n)) showKernelSettings(n.machine);
    this.shown.add(n);
  }

  /**
   * `pulumi up` from `state` (undefined: a new stack) to the program now: each step the engine
   * takes (updateSteps), run over SSH as the engine would, the program planned again with what the
   * join material and kubeconfig commands print. Returns every failure, each with its output (a new
   * stack's run goes on after one, to show them all; an update stops), what each step printed, and
   * the state the engine keeps after it: each command as this program registered it once its step
   * succeeded (or it had no step), as before where its step failed or was not reached; a failed
   * update's `pulumi up` again starts from that state.
   */
  async up(state: RunResult | undefined) {
    const done = new Set<string>();
    const applied = new Set<string>();
    const failures: string[] = [];
    const ran: { step: Step; stdout: string; stderr: string }[] = [];
    const steps = () =>
      state
        ? updateSteps(state, this.plan)
        : engineOrder(this.plan).map((c): Step => ({
            op: "create",
            command: c,
            run: c.inputs.create,
            stdin: stdinOf(c),
            connection: c.inputs.connection,
          }));
    for (;;) {
      const step = steps().find((x) => !done.has(`${x.op} ${x.command.name}`));
      if (!step) break;
      const name = step.command.name;
      done.add(`${step.op} ${name}`);
      const n = this.nodeOf(step.command);
      if (n && step.op !== "delete" && name.endsWith("-install")) this.showKernel(n);
      if (name === `${this.nodes[0].name}-install` && !state) this.initStarted = Date.now();
      const r = this.runStep(step);
      ran.push({ step, stdout: r.stdout, stderr: r.stderr });
      if (r.status !== 0)
        failures.push(`${name} (${step.op}) exited ${r.status}:\n${r.stdout.slice(-1000)}\n${r.stderr.slice(-4000)}`);
      if (r.status !== 0) console.log(`${failures[failures.length - 1]}\n${this.diagnose(step)}`);
      // An update stops there (its later steps wait for this one, as a rollout's uncordon waits 10 minutes).
      if (r.status === 0) applied.add(`${step.op} ${name}`);
      if (r.status !== 0 && state) break;
      // The commands whose stdout the program reads (k8s/bootstrap/turns.ts joinMaterial and
      // rejoinMaterial, cluster.ts the kubeconfig): a replaced first server that never got its
      // rejoin material would found a second cluster beside the first.
      if (r.status === 0 && step.op !== "delete" && READ_STDOUT.test(name)) {
        this.printed[name] = r.stdout;
        this.plan = await this.planNow();
      }
    }
    return { failures, ran, state: this.kept(state, applied) };
  }

  /**
   * The engine's state after an up from BEFORE in which the steps APPLIED ("op name") succeeded: a
   * command whose step succeeded (or that had none) as registered now, less its ignoreChanges
   * inputs, which keep the state's values; one whose step failed or was not reached as before,
   * unless its delete ran (a deleteBeforeReplace replacement that stopped between the two). A
   * command gone from the program stays until its delete has run; one with no delete goes at once.
   * Not modelled: the old copy of a create-before-delete replacement whose delete was not reached
   * (the engine keeps it to delete next time; here it is gone).
   */
  private kept(before: RunResult | undefined, applied: Set<string>): RunResult {
    const old = new Map((before?.resources ?? []).filter((r) => r.type === COMMAND).map((r) => [r.name, r]));
    const steps = before ? updateSteps(before, this.plan) : engineOrder(this.plan).map((c) => ({ op: "create", command: c }));
    const stepOf = new Map(steps.filter((x) => x.op !== "delete").map((x) => [x.command.name, x.op]));
    const resources: Registered[] = [];
    for (const r of this.plan.resources) {
      const o = r.type === COMMAND ? old.get(r.name) : undefined;
      const op = r.type === COMMAND ? stepOf.get(r.name) : undefined;
      if (!op || applied.has(`${op} ${r.name}`)) {
        const ignored = o ? Object.fromEntries(r.ignoreChanges.map((k) => [k, o.inputs[k]])) : {};
        resources.push({ ...r, inputs: { ...r.inputs, ...ignored } });
      } else if (o && !applied.has(`delete ${r.name}`)) resources.push(o);
    }
    const now = new Set(this.plan.resources.filter((r) => r.type === COMMAND).map((r) => r.name));
    for (const [name, o] of old) if (!now.has(name) && o.inputs.delete && !applied.has(`delete ${name}`)) resources.push(o);
    return { ...this.plan, resources };
  }

  /**
   * What a failed step leaves to read: the nodes and system pods as the API sees them, and, on
   * the node the step is about (s2-uncordon: s2), its services, kubelet log and containers' tasks.
   */
  diagnose(step: Step): string {
    const out = [this.kubectl("get", "nodes", "-o", "wide"), this.kubectl("get", "pods", "-A", "-o", "wide")].map(
      (r) => r.stdout + r.stderr,
    );
    const n = this.nodeOf(step.command);
    if (n?.machine.leader) {
      out.push(this.kubectl("describe", "node", n.name).stdout);
      const r = n.machine.sh(
        "systemctl is-active kubelet containerd; journalctl -u kubelet -n 30 --no-pager; ctr -n k8s.io tasks ls",
        { timeout: 60_000 },
      );
      out.push(`on ${n.machine.name}:\n${r.stdout}${r.stderr}`);
    }
    return out.join("\n");
  }

  nodeOf = (c: Registered) => this.nodes.find((n) => c.name.startsWith(`${n.name}-`));

  /** The user's load balancer (apiAddress) in front of the servers at ADDRESSES. */
  startBalancer(addresses: string[]) {
    this.balancer?.kill();
    this.balancer = spawn("ip", ["netns", "exec", SUITE_NS, "python3", "-c", BALANCER_PY, BALANCER, ...addresses], {
      stdio: "ignore",
    });
  }

  /** A node's machine, made and booted as a VPS with Debian's containerd (see above); NAME is its name in the stack. */
  async newNode(s: { name: string; machine: string; host: number; role: Node["role"] }): Promise<Node> {
    const machine: Machine = new Machine(s.machine, { host: s.host, nspawnArgs: [] });
    // containerd's overlayfs snapshots cannot stack on the machine's overlay root: its state is
    // a directory of this host's own filesystem, as kind gives its nodes a volume there.
    const state = path.join(machine.dir, "containerd");
    fs.mkdirSync(state);
    (machine.options.nspawnArgs as string[]).push(
      "--bind=/dev/kmsg",
      "--capability=all",
      "--system-call-filter=@keyring",
      `--bind=${state}:/var/lib/containerd`,
    );
    const key = keyPair(this.dir, `${s.machine}-host`);
    machine.create(rootfs());
    machine.write(
      "var/lib/cloud/seed/nocloud/user-data",
      `#cloud-config\n${stringify({ manage_etc_hosts: true, ssh_deletekeys: true, ssh_keys: { ed25519_private: key.privateKeyOpenssh, ed25519_public: key.publicKeyOpenssh.trim() } }, { lineWidth: 0 })}`,
    );
    machine.write(
      "var/lib/cloud/seed/nocloud/meta-data",
      stringify({ "instance-id": `node-${s.host}`, "local-hostname": s.machine, "public-keys": [this.client.publicKey] }),
    );
    machine.write("etc/cloud/cloud.cfg.d/91-machines-network.cfg", "network: {config: disabled}\n");
    // The VPS image has Debian's containerd and runc (the air-gapped install brings no runtime).
    machine.inRoot("dpkg -i /opt/oci-k8s-machines/debs/runc_*.deb /opt/oci-k8s-machines/debs/containerd_*.deb >/dev/null");
    const n: Node = { name: s.name, machine, hostKey: key.publicKeyOpenssh.split(" ").slice(0, 2).join(" "), role: s.role };
    await machine.boot();
    machine.must("cloud-init status --wait", 300_000);
    // A default route, as every VPS has: a Service's address (10.96.0.1) has no route of its own,
    // and kube-proxy's DNAT comes after routing. It ends at the suite's bridge, which forwards nothing.
    must("ip", ["-n", machine.ns, "route", "add", "default", "via", PUBLIC_NET.gateway]);
    // nspawn mounts the cgroup v1 controllers read-only; the kubelet and runc write them.
    const controllers = fs
      .readdirSync("/sys/fs/cgroup")
      .filter((c) => !["systemd", "unified"].includes(c) && !fs.lstatSync(`/sys/fs/cgroup/${c}`).isSymbolicLink());
    for (const c of controllers)
      must("nsenter", ["-t", String(machine.leader), "-m", "mount", "-o", "remount,bind,rw", `/sys/fs/cgroup/${c}`]);
    return n;
  }

  /** The machines booted, the mirror and balancer running, the stack planned on the release before the pin. */
  async setup(ctx: Mocha.Context) {
    requireRoot(ctx, "network namespaces, systemd-nspawn and cgroups need root");
    for (const tool of ["systemd-nspawn", "debootstrap", "nsenter", "ssh", "ip", "go"]) requireTool(ctx, tool);
    for (const kube of [KUBE_BIN, PREVIOUS_BIN])
      for (const bin of ["kubeadm", "kubelet", "kubectl", "kube-images.tar"])
        requireFile(
          ctx,
          path.join(kube, bin),
          "run tools/kube/build.sh [--previous] all, build-addons.sh and build-images.sh [--previous]",
        );
    const image = rootfs();
    requireFile(ctx, path.join(image, "opt/oci-k8s-machines/debs"), "tools/machines/build-rootfs.sh");
    this.dir = tempDir("kubeadm-cluster");
    this.client = new SshClient(this.dir);
    createSuiteNetwork();
    const specs = [
      ...Array.from({ length: SERVERS }, (_, i) => ({ name: `s${i + 1}`, host: 31 + i, role: "server" as const })),
      ...Array.from({ length: AGENTS }, (_, i) => ({ name: `a${i + 1}`, host: 41 + i, role: "agent" as const })),
    ];
    this.nodes.push(...(await Promise.all(specs.map((x) => this.newNode({ ...x, machine: x.name })))));
    this.mirrorDir = path.join(this.dir, "mirror");
    fs.mkdirSync(this.mirrorDir);
    mirrorFiles(this.mirrorDir, PREVIOUS_BIN);
    this.mirror = serveMirror(this.mirrorDir);
    await waitFor("the artifact this.mirror", 10_000, () =>
      inSuite("curl", ["-sf", "-o", "/dev/null", `${MIRROR}/kubelet.service`]).status === 0 ? true : undefined,
    );
    if (SERVERS > 1) {
      must("ip", ["-n", SUITE_NS, "addr", "add", `${BALANCER}/24`, "dev", PUBLIC_NET.bridge]);
      this.startBalancer(this.nodes.filter((n) => n.role === "server").map((n) => n.machine.address));
    }
    this.stackConfig = {
      ...stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.vps-kubeadm.yaml")),
      "oci-k8s:hostUser": USER,
      "oci-k8s:adminCidrs": [`${ADMIN}/32`],
      "oci-k8s:containerHosts": true,
      ...(SERVERS > 1 ? { "oci-k8s:apiAddress": BALANCER } : {}),
      "oci-k8s:artifactSource": MIRROR,
      "oci-k8s:hosts": this.nodes.map((n) => ({
        name: n.name,
        role: n.role,
        address: n.machine.address,
        memoryGb: 4,
        hostKey: n.hostKey,
      })),
    };
    // The cluster forms on the release before the pin, so that day two can upgrade it to the pin.
    this.release(PREVIOUS_BIN, PREVIOUS_VERSION);
    this.plan = await this.planNow();
  }

  async teardown() {
    for (const r of this.results) console.log(`      ${r.name}: ${r.seconds.toFixed(1)} s, exit ${r.status}`);
    for (const n of this.nodes)
      if (n.machine.leader)
        console.log(`      ${n.machine.name}: ${Math.round(n.machine.residentMemory() / 2 ** 20)} MiB resident`);
    this.mirror?.kill();
    this.balancer?.kill();
    await Promise.all([...this.nodes, ...this.retired].map((n) => n.machine.destroy()));
    destroySuiteNetwork();
    // The kubelets' cgroup roots and containerd's, in the host's own controllers (shared by every machine).
    for (const c of fs.readdirSync("/sys/fs/cgroup"))
      for (const d of [...this.nodes.map((n) => `oci-k8s-${n.name}`), "k8s.io"]) {
        const top = path.join("/sys/fs/cgroup", c, d);
        if (fs.existsSync(top)) spawnSync("find", [top, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"]);
      }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
