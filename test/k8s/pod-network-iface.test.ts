/**
 * The pod network's VXLAN leaves by the interface holding the node's privateIp, not the default
 * route's: the host firewall admits 8472/udp from the hosts' privateIps only. The install scripts
 * run inside a network namespace of the test's own, where the default route is on one interface
 * and the privateIp on another (the VPS with a private network).
 *
 * Upstream: k3s `flannel-iface` takes an interface name (k3s pkg/cli/cmds/agent.go); flannel
 * matches `--iface-regex` against interface IPv4 addresses before names, and `--iface` (env
 * FLANNELD_IFACE) takes an IP or a name (flannel-io/flannel pkg/ipmatch/match.go,
 * LookupExtIface); rke2-charts packages/rke2-canal: `flannel.regexIface` → FLANNELD_IFACE_REGEX.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { RKE2 } from "../../k8s/bootstrap/rancher";
import { KUBEADM } from "../../k8s/bootstrap/kubeadm";
import { kubeVipCommand, kubeVipManifest, kubeVipStdin } from "../../k8s/bootstrap/kube-vip";
import { ClusterFacts, NodeFacts } from "../../k8s/bootstrap/distribution";
import { decodeSettings, encodeSettings, scriptText } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, ofType, runOk } from "../../scripts/mock-program";
import { fakeBin, requireRoot, requireTool, run, tempDir } from "../tools";
import { fakeRancher, k3sServer, sandbox, Sandbox, shellWords, systemPath } from "./bootstrap-scripts.fixtures";

const NS = `oci-k8s-iface-${process.pid}`;
const PRIVATE_IP = "10.77.0.5";

/** Runs a bootstrap script inside the test's namespace, with the sandbox's fakes. */
function inNamespace(s: Sandbox, script: "rancher" | "kubeadm", args: string[], settings: Record<string, string>) {
  return run("ip", ["netns", "exec", NS, "bash", "-c", scriptText(script), script, ...args], {
    input: encodeSettings(settings),
    env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root, OCI_K8S_RETRY_DELAY: "0", FAKE_STATE: s.state },
  });
}

const node = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  name: "server-1",
  role: "server",
  first: true,
  privateIp: PRIVATE_IP,
  addresses: [PRIVATE_IP],
  memoryGb: 8,
  taints: [],
  resolvConf: "/run/systemd/resolve/resolv.conf",
  ...over,
});
const cluster = (over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  clusterName: "c",
  version: "v1.34.9+rke2r1",
  firstServerIp: PRIVATE_IP,
  tlsSans: [],
  token: "t",
  ...over,
});

/** The regexIface Canal gets from `networks` (an Oracle Cloud VCN), where no node's IP is known before its instance. */
const networkRegex = (networks: string[]) =>
  parse(parse(RKE2.installSettings(node(), cluster({ nodeNetworks: networks })).CANAL_CONFIG).spec.valuesContent).flannel
    .regexIface as string;

describe("RKE2 Canal's flannel interface from the nodes' networks (Oracle Cloud)", function () {
  this.timeout(120_000);
  const ipOf = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
  const numOf = (ip: string) => ip.split(".").reduce((a, o) => a * 256 + Number(o), 0);

  it("matches exactly the addresses inside each CIDR, under Go's regexp (flannel's LookupExtIface uses regexp.MatchString)", function () {
    requireTool(this, "go");
    const cases: { regex: string; ip: string; inside: boolean }[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const cidr of [
      "10.0.0.0/16",
      "10.0.1.0/24",
      "172.16.4.0/22",
      "10.0.0.128/25",
      "192.168.7.9/32",
      "10.0.0.0/8",
      "100.64.0.0/10",
    ]) {
      const [base, bits] = cidr.split("/");
      const size = 2 ** (32 - Number(bits));
      const first = numOf(base) - (numOf(base) % size);
      const regex = networkRegex([cidr]);
      const probes = [
        first,
        first + size - 1,
        first - 1,
        first + size,
        ...Array.from({ length: 40 }, () => Math.floor(random() * 2 ** 32)),
      ];
      for (let i = 0; i < 20; i++) probes.push(first + Math.floor(random() * size));
      for (const n of probes.filter((x) => x >= 0 && x < 2 ** 32))
        cases.push({ regex, ip: ipOf(n), inside: n >= first && n < first + size });
    }
    // JavaScript agrees (the syntax is common to both) ...
    for (const c of cases) assert.equal(new RegExp(c.regex).test(c.ip), c.inside, `${c.regex} ${c.ip}`);
    // ... and Go's regexp, as flannel runs it.
    const dir = tempDir("iface-regex");
    fs.writeFileSync(
      path.join(dir, "main.go"),
      `package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		f := strings.Fields(in.Text())
		fmt.Println(regexp.MustCompile(f[0]).MatchString(f[1]))
	}
}
`,
    );
    const r = run("go", ["run", "main.go"], {
      cwd: dir,
      input: cases.map((c) => `${c.regex} ${c.ip}`).join("\n") + "\n",
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, GO111MODULE: "off", GOFLAGS: "", GOTOOLCHAIN: "local" },
      timeout: 110_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      r.stdout.trim().split("\n"),
      cases.map((c) => String(c.inside)),
    );
  });

  it("an Oracle Cloud RKE2 stack gives every server Canal's regexIface from the VCN, with no instance IP in it", async () => {
    const r = await runOk("canal-oracle", { ...MINIMAL_CONFIG, "oci-k8s:distribution": "rke2" });
    const servers = ofType(r, "command:remote:Command").filter(
      (c) => c.name.endsWith("-install") && / rancher rke2 server$/.test(String(c.inputs.create)),
    );
    assert.ok(servers.length > 0);
    for (const c of servers) {
      const canal = decodeSettings(c.inputs.stdin).CANAL_CONFIG;
      assert.ok(canal, `${c.name} has no CANAL_CONFIG`);
      const regex = parse(parse(canal).spec.valuesContent).flannel.regexIface;
      assert.equal(regex, networkRegex(["10.0.0.0/16"]), "the default vcnCidr");
      // Every node's (mock) instance address is inside; nothing outside the VCN is.
      const nodes = r.outputs.nodes as { privateIp: string }[];
      assert.ok(nodes.length > 0);
      for (const n of nodes) assert.match(n.privateIp, new RegExp(regex));
      assert.doesNotMatch("10.1.0.11", new RegExp(regex));
    }
  });
});

describe("the pod network leaves by the interface holding privateIp (a real network namespace)", function () {
  this.timeout(60_000);

  before(function () {
    requireRoot(this, "a network namespace with dummy interfaces");
    requireTool(this, "ip");
    const sh = (cmd: string) => {
      const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    };
    sh(`ip netns add ${NS}`);
    const x = (cmd: string) => sh(`ip -n ${NS} ${cmd}`);
    x("link set lo up");
    // The default route's interface (a public address), and a second one holding the privateIp:
    // veth pairs with both ends inside the namespace (this kernel has no dummy interfaces).
    for (const [name, address] of [
      ["pub0", "198.51.100.7/24"],
      ["priv1", `${PRIVATE_IP}/24`],
    ]) {
      x(`link add ${name} type veth peer name ${name}p`);
      x(`addr add ${address} dev ${name}`);
      x(`link set ${name} up`);
      x(`link set ${name}p up`);
    }
    x("route add default via 198.51.100.1 dev pub0");
  });
  after(() => {
    spawnSync("ip", ["netns", "delete", NS]);
  });

  it("k3s: flannel-iface names the interface holding privateIp, not the default route's", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const r = inNamespace(s, "rancher", ["k3s", "server"], { ...k3sServer(), NODE_IP: PRIVATE_IP });
    assert.equal(r.status, 0, r.stderr);
    const config = parse(fs.readFileSync(path.join(s.root, "etc/rancher/k3s/config.yaml"), "utf8"));
    assert.equal(config["flannel-iface"], "priv1");
    assert.match(r.stderr, /the pod network leaves by priv1, which holds 10\.77\.0\.5/);
  });

  for (const [dist, args] of [
    ["k3s", ["k3s", "agent"]],
    ["rke2", ["rke2", "agent"]],
  ] as const) {
    it(`${dist}: no interface holds privateIp: the install stops before anything is written, saying so`, () => {
      const s = sandbox();
      fakeRancher(s, dist);
      const r = inNamespace(s, "rancher", [...args], { VERSION: "v1.34.9+k3s1", CONFIG: "token: x", NODE_IP: "10.77.9.9" });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /FAILED: no network interface of this host holds its privateIp 10\.77\.9\.9/);
      assert.ok(!fs.existsSync(path.join(s.root, `etc/rancher/${dist}`)), "nothing written");
    });
  }

  it("RKE2: Canal's flannel picks, on each node, the interface holding that node's privateIp", () => {
    const settings = RKE2.installSettings(node(), cluster({ nodeIps: [PRIVATE_IP, "10.77.0.6"] }));
    const canal = parse(settings.CANAL_CONFIG);
    assert.equal(canal.kind, "HelmChartConfig");
    assert.equal(canal.metadata.name, "rke2-canal");
    const regex = new RegExp(parse(canal.spec.valuesContent).flannel.regexIface);
    // What flannel's LookupExtIface does: the first interface with an IPv4 address the regex matches.
    const out = spawnSync("ip", ["-n", NS, "-o", "-4", "addr", "show"], { encoding: "utf8" }).stdout;
    const chosen = out
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .find((w) => w.length > 3 && regex.test(w[3].split("/")[0]));
    assert.equal(chosen?.[1], "priv1");
    assert.ok(!regex.test("10.77.0.50") && !regex.test("10x77x0x5"), "anchored, dots literal");
    // From the nodes' network instead (Oracle Cloud), it picks the same interface.
    const fromNet = new RegExp(networkRegex(["10.77.0.0/16"]));
    const byNet = out
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .find((w) => w.length > 3 && fromNet.test(w[3].split("/")[0]));
    assert.equal(byNet?.[1], "priv1");
    // The server writes it where RKE2 deploys manifests.
    const s = sandbox();
    fakeRancher(s, "rke2");
    const r = inNamespace(s, "rancher", ["rke2", "server"], { ...settings, KUBECTL: "rke2 kubectl" });
    assert.equal(r.status, 0, r.stderr);
    const written = fs.readFileSync(path.join(s.root, "var/lib/rancher/rke2/server/manifests/oci-k8s-canal-config.yaml"), "utf8");
    assert.equal(written.trimEnd(), settings.CANAL_CONFIG);
    // RKE2 drops flannel-iface (rke2 pkg/cli/cmds/server.go): its config does not carry it.
    assert.equal(parse(fs.readFileSync(path.join(s.root, "etc/rancher/rke2/config.yaml"), "utf8"))["flannel-iface"], undefined);
  });

  it("kubeadm: kube-flannel's --iface (FLANNELD_IFACE) is each node's own IP, and a join checks privateIp first", () => {
    const s = sandbox();
    const joined = inNamespace(s, "kubeadm", ["join"], {
      VERSION: "v1.34.9",
      CONFIG: "kind: JoinConfiguration",
      NODE_IP: "10.77.9.9",
    });
    assert.notEqual(joined.status, 0);
    assert.match(joined.stderr, /no network interface of this host holds its privateIp 10\.77\.9\.9/);
    // init patches the flannel DaemonSet with the pod's status.hostIP (the kubelet's node-ip).
    for (const tool of ["kubeadm", "apt-get", "apt-mark", "gpg", "containerd", "curl"]) fakeBin(s.bin, tool);
    fakeBin(s.bin, "kubectl");
    fs.mkdirSync(path.join(s.root, "etc/kubernetes"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/kubernetes/admin.conf"), "");
    fakeBin(s.bin, "kubelet", `echo "Kubernetes v1.34.9"`);
    const settings = KUBEADM.installSettings(
      node({ role: "server" }),
      cluster({ version: "v1.34.9", encryptionKey: Buffer.alloc(32, 1).toString("base64") }),
    );
    assert.equal(decodeSettings(encodeSettings(settings)).NODE_IP, PRIVATE_IP);
    const init = inNamespace(s, "kubeadm", ["init"], settings);
    assert.equal(init.status, 0, init.stderr);
    const patch = fs
      .readFileSync(path.join(s.bin, "calls.log"), "utf8")
      .split("\n")
      .find((c) => c.includes("patch daemonset kube-flannel-ds"));
    assert.ok(patch, "flannel DaemonSet patched");
    const json = JSON.parse(patch.slice(patch.indexOf("{")));
    assert.deepEqual(json.spec.template.spec.containers[0].env, [
      { name: "FLANNELD_IFACE", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
    ]);
  });

  /** Runs the registered kube-vip placement (its command line's script and arguments) in the namespace. */
  function placeKubeVip(s: Sandbox, vipInterface?: string) {
    const vip = { address: "10.77.0.100", ...(vipInterface ? { interface: vipInterface } : {}) };
    const [, , , script, ...args] = shellWords(kubeVipCommand(vip, "/etc/kubernetes/manifests/kube-vip.yaml", PRIVATE_IP));
    const r = run("ip", ["netns", "exec", NS, "bash", "-c", script, ...args], {
      // As registered: the loader's script, then the manifest, on stdin.
      input: kubeVipStdin(kubeVipManifest(vip, "/etc/kubernetes/admin.conf", 6443, "cp-1")),
      env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root },
    });
    const file = path.join(s.root, "etc/kubernetes/manifests/kube-vip.yaml");
    const env = fs.existsSync(file)
      ? Object.fromEntries(
          (parse(fs.readFileSync(file, "utf8")).spec.containers[0].env as { name: string; value: string }[]).map((e) => [
            e.name,
            e.value,
          ]),
        )
      : undefined;
    return { r, env };
  }

  it("kube-vip: without apiVipInterface, the VIP goes on the interface holding privateIp, not the default route's; the lease is the node's", () => {
    const { r, env } = placeKubeVip(sandbox());
    assert.equal(r.status, 0, r.stderr);
    assert.equal(env?.vip_interface, "priv1");
    assert.equal(env?.vip_nodename, "cp-1");
  });

  it("kube-vip: a named apiVipInterface is used when the server has it, and refused, naming what it has, when not", () => {
    const given = placeKubeVip(sandbox(), "pub0");
    assert.equal(given.r.status, 0, given.r.stderr);
    assert.equal(given.env?.vip_interface, "pub0");
    const missing = placeKubeVip(sandbox(), "eth0");
    assert.notEqual(missing.r.status, 0);
    assert.match(missing.r.stderr, /apiVipInterface eth0: this server has no such network interface \(it has: lo pub0p? /);
    assert.equal(missing.env, undefined, "no manifest written");
  });

  it("a server's install checks apiVipInterface before anything is installed", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const r = inNamespace(s, "rancher", ["k3s", "server"], { ...k3sServer(), NODE_IP: PRIVATE_IP, VIP_INTERFACE: "eth0" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /FAILED: apiVipInterface eth0: this server has no such network interface/);
    assert.ok(!fs.existsSync(path.join(s.root, "etc/rancher/k3s")), "nothing written");
    const kubeadm = sandbox();
    const joined = inNamespace(kubeadm, "kubeadm", ["join"], {
      VERSION: "v1.34.9",
      CONFIG: "kind: JoinConfiguration",
      NODE_IP: PRIVATE_IP,
      VIP_INTERFACE: "eth0",
    });
    assert.match(joined.stderr, /FAILED: apiVipInterface eth0/);
  });
});
