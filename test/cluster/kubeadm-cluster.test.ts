/**
 * A real kubeadm cluster formed by the program's own registered commands (issue 22), then day two
 * (an etcd snapshot and restore drill, a patch upgrade, an agent removed, the first server replaced,
 * a new API endpoint refused), each step an update of the
 * stack run as the engine would (test/machines/plan.ts updateSteps): booted
 * Debian 12 machines (test/machines) play a hosts stack's VPSes, and every remote command a
 * kubeadm hosts stack with `containerHosts: true` registers runs over real SSH, with exactly its
 * registered command line and stdin, in the engine's dependency order. The install is the
 * air-gapped one (`artifactSource`, `artifactSha256`) from a mirror the suite serves inside its own
 * namespace, holding the files built here: tools/kube/bin's kubeadm, kubelet, kubectl, CNI plugins
 * and kube-images.tar, and the pinned flannel manifest. What a command prints that a later one
 * reads (join material, the kubeconfig), the engine passes on: the stack is planned again with
 * those real outputs (MockWorld.commandStdout) before the commands that read them.
 *
 * The test harness does, from outside the machines and nothing else:
 * - installs Debian 12's containerd and runc into each node's root before its first boot (kept
 *   in the image, tools/machines/packages.txt), as a VPS image with them would have;
 * - boots each node with the kernel log (/dev/kmsg: the kubelet's OOM watcher reads it), every
 *   capability and the keyring system calls (runc joins a session keyring; nspawn's filter refuses
 *   them with EPERM, which runc does not forgive; kind's nodes run privileged, unfiltered), and /var/lib/containerd on this host's own
 *   filesystem (containerd's overlayfs snapshots cannot stack on the machine's overlay root; kind
 *   gives its nodes a volume there);
 * - gives each node a default route to the suite's bridge, which forwards nothing (a Service's
 *   address is routed before kube-proxy's DNAT; with no route it is unreachable);
 * - remounts the node's cgroup v1 controllers writable (nspawn mounts them read-only);
 * - once prepare has written the node's /etc/sysctl.d/90-oci-k8s.conf, shows the kernel.* and vm.*
 *   values of that file the kubelet checks (protectKernelDefaults) over /proc/sys in the node:
 *   a machine cannot set its kernel's values (nspawn keeps /proc/sys read-only), and this suite
 *   does not change the host's.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { KUBEADM } from "../../k8s/bootstrap/kubeadm";
import { BALANCER, KUBE_BIN, KUBECTL, PREVIOUS_BIN } from "./cluster.fixtures";
import { inSuite, PUBLIC_NET } from "../machines/machine";
import { must } from "../tools";
import { AGENTS, KubeadmCluster, PREVIOUS_VERSION, SERVERS } from "./cluster.harness";

describe(`a kubeadm cluster formed by the program's registered commands (${SERVERS} server(s), ${AGENTS} agent(s), booted machines)`, function () {
  this.timeout(3_600_000);
  const c = new KubeadmCluster();
  before(async function () {
    await c.setup(this);
  });
  after(() => c.teardown());

  it("every registered command runs over SSH in the engine's order, and the nodes become Ready", async () => {
    const { failures } = await c.up(undefined);
    const readySeconds = (Date.now() - c.initStarted) / 1000;
    assert.deepEqual(failures, [], failures.join("\n\n"));
    // The admin kubeconfig the program outputs, through the endpoint it names, from the admin's address.
    const kubeconfig = String(c.plan.outputs.kubeconfig);
    assert.doesNotMatch(kubeconfig, /TU9DSy1DQQ==/, "the kubeconfig is the cluster's, not the mock's");
    const file = path.join(c.dir, "admin.conf");
    fs.writeFileSync(file, kubeconfig, { mode: 0o600 });
    const server = /server: (\S+)/.exec(kubeconfig)![1];
    assert.equal(server, `https://${SERVERS > 1 ? BALANCER : c.nodes[0].machine.address}:${KUBEADM.apiPort}`);
    const got = inSuite(KUBECTL, ["--kubeconfig", file, "get", "nodes", "--no-headers"], { timeout: 60_000 });
    assert.equal(got.status, 0, got.stderr);
    const ready = got.stdout.split("\n").filter((l: string) => / Ready /.test(l)).length;
    console.log(got.stdout);
    console.log(`      nodes Ready: ${ready}`);
    console.log(`      kubeadm init to all nodes Ready: ${readySeconds.toFixed(0)} s`);
    assert.equal(ready, c.nodes.length);
    // Ready nodes need only a CNI configuration: the cluster works once every system pod is Ready
    // too (the control plane, etcd, kube-proxy, flannel and CoreDNS, which needs the pod network).
    c.assertHealthy(
      c.nodes.map((n) => n.name),
      PREVIOUS_VERSION,
    );
    console.log(`      kubeadm init to every system pod Ready: ${((Date.now() - c.initStarted) / 1000).toFixed(0)} s`);
    c.running = c.plan.outputs;
  });

  it("day two: the first server's etcd snapshot tool takes a snapshot of the cluster's etcd, and the restore drill restores it", () => {
    const snap = c.onFirst("sudo /usr/local/sbin/oci-k8s-etcd-snapshot run");
    assert.equal(snap.status, 0, snap.stderr);
    assert.match(snap.stderr, /snapshot \/var\/lib\/oci-k8s\/etcd-snapshots\/etcd-snapshot-s1-\d{8}T\d{6}Z\.db/);
    const drill = c.onFirst("sudo /usr/local/sbin/oci-k8s-etcd-drill run");
    console.log(drill.stderr);
    assert.equal(drill.status, 0, drill.stderr);
    assert.match(drill.stderr, /restore drill passed: \S+ restored at revision \d+ with \/registry\/namespaces\/kube-system/);
    const metrics = c.onFirst("cat /var/lib/node_exporter/textfile/etcd_drill.prom");
    assert.match(metrics.stdout, /^oci_k8s_etcd_drill_success 1$/m);
    c.assertHealthy(
      c.nodes.map((n) => n.name),
      PREVIOUS_VERSION,
    );
  });

  it(`day two: the upgrade ${PREVIOUS_VERSION} -> ${KUBEADM.defaultVersion} rolls node by node, each drained, upgraded and uncordoned; a drain a PodDisruptionBudget holds past rolloutDrainTimeout stops it there, and the next up resumes with that node (bootstrap item 13)`, async () => {
    const state = c.plan;
    // A workload on the last node whose budget allows no eviction (as Rook's and Longhorn's do
    // while their data has no other copy), in the pause image every node has (nothing is pulled).
    const last = c.nodes[c.nodes.length - 1].name;
    const pause = must(path.join(PREVIOUS_BIN, "kubeadm"), ["config", "images", "list", "--kubernetes-version", PREVIOUS_VERSION])
      .split("\n")
      .find((l) => /\/pause:/.test(l));
    assert.ok(pause, `kubeadm ${PREVIOUS_VERSION} lists no pause image`);
    const held = c.kubectlApply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: held, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: held}}
  template:
    metadata: {labels: {app: held}}
    spec:
      nodeSelector: {kubernetes.io/hostname: ${last}}
      containers: [{name: pause, image: "${pause}", imagePullPolicy: Never}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: held, namespace: default}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: held}}
`);
    assert.equal(held.status, 0, held.stderr);
    const rolledOut = c.kubectl("-n", "default", "rollout", "status", "deployment/held", "--timeout=240s");
    assert.equal(rolledOut.status, 0, rolledOut.stdout + rolledOut.stderr);
    c.release(KUBE_BIN, KUBEADM.defaultVersion);
    c.stackConfig = { ...c.stackConfig, "oci-k8s:rolloutDrainTimeout": 20 };
    c.plan = await c.planNow();
    const started = Date.now();
    const stopped = await c.up(state);
    assert.equal(stopped.failures.length, 1, stopped.failures.join("\n\n"));
    assert.match(stopped.failures[0], new RegExp(`^${last}-drain \\(update\\) exited 1:`));
    assert.match(
      stopped.failures[0],
      new RegExp(`draining ${last} did not finish within 20s; the rollout stops here and the node stays cordoned`),
    );
    assert.match(stopped.failures[0], /Cannot evict pod as it would violate the pod's disruption budget/);
    // The node stays cordoned, marked as drained by the rollout (its uncordon undoes it), the workload on it.
    const cordoned = c.kubectl(
      "get",
      "node",
      last,
      "-o",
      `jsonpath={.spec.unschedulable} {.metadata.annotations.oci-k8s\\.io/drained}`,
    );
    assert.equal(cordoned.stdout, "true true", cordoned.stderr);
    const where = () =>
      c.kubectl(
        "-n",
        "default",
        "get",
        "pods",
        "-l",
        "app=held",
        "-o",
        "jsonpath={.items[*].spec.nodeName} {.items[*].metadata.name}",
      ).stdout;
    const [onNode, heldPod] = where().split(" ");
    assert.equal(onNode, last);
    // Its budget lets go: pulumi up again, from the state the stopped one left, resumes with that node.
    assert.equal(c.kubectl("-n", "default", "delete", "pdb", "held").status, 0);
    const { failures, ran } = await c.up(stopped.state);
    assert.deepEqual(failures, [], failures.join("\n\n"));
    console.log(
      `      upgrade of ${c.nodes.length} nodes, a stopped drain and its resume: ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    // Servers first, then agents; each node's drain, upgrade and uncordon before the next node's;
    // the resumed up runs only the stopped node's turn.
    const turnsOf = (r: typeof ran) => r.map((x) => x.step.command.name).filter((n) => /-(drain|install|uncordon)$/.test(n));
    const all = c.nodes.flatMap((n) => ["drain", "install", "uncordon"].map((s) => `${n.name}-${s}`));
    assert.deepEqual(turnsOf(stopped.ran), all.slice(0, -2));
    assert.deepEqual(turnsOf(ran), all.slice(-3));
    const rollout = c.kubectl("-n", "default", "rollout", "status", "deployment/held", "--timeout=240s");
    assert.equal(rollout.status, 0, rollout.stdout + rollout.stderr);
    // The resumed drain evicted the pod the budget had held, and a new one runs on its node.
    const gone = c.kubectl("-n", "default", "wait", "--for=delete", `pod/${heldPod}`, "--timeout=120s");
    assert.equal(gone.status, 0, `the held pod was never evicted: ${gone.stdout}${gone.stderr}`);
    const [backOn, newPod] = where().split(" ");
    assert.equal(backOn, last, "the workload is back on its node");
    assert.ok(newPod && newPod !== heldPod, where());
    assert.equal(c.kubectl("-n", "default", "delete", "deployment", "held").status, 0);
    for (const r of [...stopped.ran, ...ran].filter((x) => x.step.command.name.endsWith("-drain")))
      assert.match(
        r.stderr,
        new RegExp(`node \\S+ changes \\(version ${PREVIOUS_VERSION} -> ${KUBEADM.defaultVersion}\\); draining it`),
      );
    const server = c.kubectl("version", "-o", "json");
    assert.equal(JSON.parse(server.stdout).serverVersion.gitVersion, KUBEADM.defaultVersion);
    c.assertHealthy(
      c.nodes.map((n) => n.name),
      KUBEADM.defaultVersion,
    );
    c.running = c.plan.outputs;
  });

  it("day two: removing the agent from the stack drains and deletes its node and resets kubeadm on it; the servers stay healthy", async function () {
    const agent = c.nodes.find((n) => n.role === "agent");
    if (!agent) this.skip(); // not a tool: CLUSTER_AGENTS=0 forms no agent to remove
    const state = c.plan;
    const name = agent!.name;
    c.stackConfig = {
      ...c.stackConfig,
      "oci-k8s:hosts": (c.stackConfig["oci-k8s:hosts"] as { name: string }[]).filter((h) => h.name !== name),
    };
    c.plan = await c.planNow();
    const { failures, ran } = await c.up(state);
    assert.deepEqual(failures, [], failures.join("\n\n"));
    const deleted = ran.filter((r) => r.step.op === "delete").map((r) => r.step.command.name);
    assert.ok(deleted.includes(`${name}-retire`) && deleted.includes(`${name}-uninstall`), deleted.join(", "));
    // Nothing installs or joins; the servers' firewalls only stop admitting its address.
    assert.ok(
      ran.every((r) => r.step.op === "delete" || /-firewall$|^cluster-ready$/.test(r.step.command.name)),
      ran.map((r) => `${r.step.op} ${r.step.command.name}`).join(", "),
    );
    c.assertHealthy(
      c.nodes.filter((n) => n !== agent).map((n) => n.name),
      KUBEADM.defaultVersion,
    );
    assert.notEqual(agent!.machine.sh("systemctl is-active kubelet").stdout.trim(), "active");
    assert.equal(agent!.machine.sh("test -e /etc/kubernetes/kubelet.conf").status, 1, "kubeadm reset ran");
    c.running = c.plan.outputs;
  });

  it("day two: the first server replaced by a new machine (another address and host key) leaves, and the new one rejoins through another server", async function () {
    if (SERVERS < 2) this.skip(); // not a tool: one server has no other to rejoin through
    const old = c.firstServer();
    const state = c.plan;
    const fresh = await c.newNode({ name: old.name, machine: `${old.name}r`, host: 35, role: "server" });
    c.nodes[c.nodes.indexOf(old)] = fresh;
    c.retired.push(old);
    // The user's balancer: the new server added (the old one is skipped once it no longer answers).
    c.startBalancer([old, ...c.nodes.filter((n) => n.role === "server")].map((n) => n.machine.address));
    c.stackConfig = {
      ...c.stackConfig,
      "oci-k8s:hosts": (c.stackConfig["oci-k8s:hosts"] as { name: string }[]).map((h) =>
        h.name === old.name ? { ...h, address: fresh.machine.address, hostKey: fresh.hostKey } : h,
      ),
    };
    c.plan = await c.planNow();
    const { failures, ran } = await c.up(state);
    assert.deepEqual(failures, [], failures.join("\n\n"));
    const steps = ran.map((r) => `${r.step.op} ${r.step.command.name}`);
    console.log(`      ${steps.join(", ")}`);
    // The old machine is reset (its etcd member leaves with it) before the new one's install, and a
    // live server finds the first server gone from etcd and makes its join material.
    const reset = steps.indexOf(`delete ${old.name}-uninstall`);
    assert.ok(reset >= 0 && reset < steps.indexOf(`create ${old.name}-install`), steps.join(", "));
    const material = ran.find((r) => r.step.command.name === `${old.name}-rejoin-material`)!;
    assert.match(material.stderr, new RegExp(`${old.name} (has no etcd member|was replaced)`));
    const install = ran.find((r) => r.step.op === "create" && r.step.command.name === `${old.name}-install`)!;
    assert.match(install.stderr, /this replaced first server joins it/);
    // kubeadm join's own words (cmd/kubeadm/app/cmd/join.go v1.34.4, joinControlPlaneDoneTemp), and none of
    // init's phases ("[init] Using Kubernetes version"): a join's preflight does mention "kubeadm init phase".
    assert.match(install.stderr, /This node has joined the cluster and a new control plane instance was created/);
    assert.doesNotMatch(install.stderr, /^\[init\] /m);
    // Its kubelet's cgroup root is made before each start, as on a first install (the old
    // machine's, in this host's shared controllers, must not be what it runs on).
    assert.equal(fresh.machine.sh("test -x /usr/local/sbin/oci-k8s-kubelet-cgroup-root").status, 0);
    const etcd = c.kubectl(
      "-n",
      "kube-system",
      "exec",
      `etcd-${c.nodes.find((n) => n.role === "server" && n !== fresh)!.name}`,
      "--",
      "etcdctl",
      "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
      "--cert=/etc/kubernetes/pki/etcd/server.crt",
      "--key=/etc/kubernetes/pki/etcd/server.key",
      "member",
      "list",
    );
    assert.equal(etcd.status, 0, etcd.stderr);
    console.log(etcd.stdout);
    const members = etcd.stdout.trim().split("\n");
    assert.equal(members.length, SERVERS, "one etcd member per server, the old one's removed");
    assert.ok(
      members.some((m) => m.includes(`https://${fresh.machine.address}:2380`)),
      "the new server is a member",
    );
    assert.ok(!members.some((m) => m.includes(`https://${old.machine.address}:2380`)), "the old one is not");
    c.assertHealthy(
      c.nodes.filter((n) => n.role === "server").map((n) => n.name),
      KUBEADM.defaultVersion,
    );
    c.running = c.plan.outputs;
  });

  it("day two: a new API endpoint for the running cluster is refused with the reason at the first server's install, and the stack set back applies cleanly (bootstrap item 15)", async () => {
    const state = c.plan;
    const before = c.stackConfig;
    const servers = c.nodes.filter((n) => n.role === "server");
    // Another load balancer's address: kubeadm bakes the endpoint into certificates and kubeconfigs at init.
    c.stackConfig = { ...before, "oci-k8s:apiAddress": `${PUBLIC_NET.prefix}.101` };
    c.plan = await c.planNow();
    const { failures, ran, state: failed } = await c.up(state);
    assert.equal(failures.length, 1, failures.join("\n\n"));
    assert.match(failures[0], new RegExp(`^${c.firstServer().name}-install \\(update\\) exited 1:`));
    assert.match(failures[0], /the API endpoint or certificate names of this running kubeadm cluster would change/);
    // No other node's install ran before it, and the API still serves its certificate for the old names.
    const installs = ran.map((r) => r.step.command.name).filter((n) => n.endsWith("-install"));
    assert.deepEqual(installs, [`${c.firstServer().name}-install`]);
    const cert = inSuite("sh", [
      "-c",
      `openssl s_client -connect ${c.firstServer().machine.address}:${KUBEADM.apiPort} </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`,
    ]);
    assert.equal(cert.status, 0, cert.stderr);
    if (SERVERS > 1) assert.match(cert.stdout, new RegExp(`IP Address:${BALANCER.replace(/\./g, "\\.")}\\b`));
    assert.doesNotMatch(cert.stdout, /\.101\b/, "the API certificate is untouched");
    // The stack set back: pulumi up from the state the failed one left applies, and the cluster is as it was.
    c.stackConfig = before;
    c.plan = await c.planNow();
    const back = await c.up(failed);
    assert.deepEqual(back.failures, [], back.failures.join("\n\n"));
    c.assertHealthy(
      servers.map((n) => n.name),
      KUBEADM.defaultVersion,
    );
    c.running = c.plan.outputs;
  });
});
