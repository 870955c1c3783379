/**
 * The host firewall of existing machines: the ports each host opens equal the cluster's port
 * table for its role; the rendered ruleset passes the real `nft -c`; and applied with
 * host-firewall.sh in a network namespace, real packets pass or stop as the table says.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { FirewallHost, FirewallPlan, openPorts, renderRuleset } from "../../hosts/firewall";
import { DISTRIBUTIONS } from "../../k8s/bootstrap/distributions";
import { encodeSettings } from "../../k8s/bootstrap/scripts";
import { ROOT } from "../../scripts/mock-program";
import { fakeBin, must, requireRoot, requireTool, run, tempDir } from "../tools";

const hosts: FirewallHost[] = [
  { name: "cp-1", role: "server", privateIp: "198.18.8.1", ingress: true },
  { name: "etcd-1", role: "etcd", privateIp: "198.18.8.2", ingress: false },
  { name: "worker-1", role: "agent", privateIp: "198.18.8.3", ingress: false },
];
const planFor = (distribution: "k3s" | "kubeadm" | "rke2", nodes = hosts): FirewallPlan => ({
  clusterPorts: [
    ...DISTRIBUTIONS[distribution].ports,
    { protocol: "tcp", min: 9100, max: 9100, from: "nodes", to: "nodes", description: "node-exporter" },
  ],
  apiPort: 6443,
  adminCidrs: ["198.18.9.0/24"],
  podCidr: DISTRIBUTIONS[distribution].podCidr,
  hosts: nodes,
});

describe("host firewall: the port table per role", () => {
  for (const distribution of ["k3s", "kubeadm", "rke2"] as const) {
    it(`${distribution}: every host opens exactly its role's rows of the table, to exactly the peers that use them`, () => {
      const plan = planFor(distribution);
      for (const host of hosts) {
        const got = openPorts(plan, host);
        const serverSide = host.role !== "agent";
        for (const rule of plan.clusterPorts) {
          const listens = rule.to === "nodes" || serverSide;
          const row = got.find((p) => p.min === rule.min && p.protocol === rule.protocol && p.description === rule.description);
          assert.equal(row !== undefined, listens, `${host.name} ${rule.description}`);
          if (!row || row.from === "any") continue;
          const peers = hosts.filter((h) => h !== host && (rule.from === "nodes" || h.role !== "agent")).map((h) => h.privateIp);
          assert.deepEqual([...row.from].sort(), peers.sort(), `${host.name} ${rule.description}`);
        }
        const api = got.filter((p) => p.min === 6443 && p.from !== "any" && p.from.includes("198.18.9.0/24"));
        assert.equal(api.length, host.role === "server" ? 1 : 0, `${host.name}: API from admins`);
        assert.equal(got.filter((p) => p.from === "any").length, host.ingress ? 2 : 0, `${host.name}: 80/443 from anywhere`);
        assert.ok(
          got.some((p) => p.min === 22),
          `${host.name}: SSH`,
        );
      }
    });
  }
});

describe("host firewall: nftables for real", function () {
  this.timeout(60_000);
  before(function () {
    requireTool(this, "nft");
    requireRoot(this, "nft -c and network namespaces need root");
  });

  it("every rendered ruleset passes nft -c; a broken one does not (negative control)", () => {
    const dir = tempDir("nft");
    for (const distribution of ["k3s", "kubeadm", "rke2"] as const) {
      for (const host of hosts) {
        const file = path.join(dir, `${distribution}-${host.name}.nft`);
        fs.writeFileSync(file, renderRuleset(planFor(distribution), host));
        const r = run("unshare", ["-n", "nft", "-c", "-f", file]);
        assert.equal(r.status, 0, `${file}: ${r.stderr}`);
      }
    }
    const bad = path.join(dir, "bad.nft");
    fs.writeFileSync(bad, renderRuleset(planFor("k3s"), hosts[0]).replace("tcp dport 22", "tcp dport twenty-two"));
    assert.notEqual(run("unshare", ["-n", "nft", "-c", "-f", bad]).status, 0);
  });

  describe("host-firewall.sh apply, and packets through a veth pair", () => {
    const id = process.pid % 100000;
    const NS = { host: `ock-fw-host-${id}`, peer: `ock-fw-peer-${id}` };
    const listeners: ChildProcess[] = [];
    const inNs = (ns: string, cmd: string, args: string[]) => must("ip", ["netns", "exec", ns, cmd, ...args]);

    before(() => {
      requireTool(this.ctx, "ip");
      for (const ns of Object.values(NS)) must("ip", ["netns", "add", ns]);
      must("ip", ["link", "add", `fwh${id}`, "netns", NS.host, "type", "veth", "peer", "name", `fwp${id}`, "netns", NS.peer]);
      inNs(NS.host, "ip", ["addr", "add", "198.18.8.3/24", "dev", `fwh${id}`]);
      inNs(NS.peer, "ip", ["addr", "add", "198.18.8.1/24", "dev", `fwp${id}`]);
      for (const [ns, dev] of [
        [NS.host, `fwh${id}`],
        [NS.peer, `fwp${id}`],
      ]) {
        inNs(ns, "ip", ["link", "set", dev, "up"]);
        inNs(ns, "ip", ["link", "set", "lo", "up"]);
      }
    });
    after(() => {
      listeners.forEach((l) => l.kill());
      for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "delete", ns]);
    });

    const probe = (port: number) =>
      inNs(NS.peer, process.execPath, [
        "-e",
        `const s = require("net").connect({ host: "198.18.8.3", port: ${port} });
         s.setTimeout(1500, () => { console.log("blocked"); process.exit(0); });
         s.on("connect", () => { console.log("open"); s.destroy(); });
         s.on("error", (e) => console.log(e.code));`,
      ]).trim();

    it("the worker accepts the kubelet and VXLAN peers' ports and SSH from admins only; etcd and the API stay closed", async () => {
      const listener = spawn(
        "ip",
        [
          "netns",
          "exec",
          NS.host,
          process.execPath,
          "-e",
          `const net = require("net"); let up = 0;
           for (const p of [22, 10250, 2379, 6443]) net.createServer((s) => s.end()).listen(p, "198.18.8.3", () => { if (++up === 4) console.log("listening"); });
           setTimeout(() => process.exit(0), 60000);`,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      listeners.push(listener);
      await new Promise<void>((resolve) => listener.stdout!.on("data", (d) => String(d).includes("listening") && resolve()));
      assert.deepEqual([22, 10250, 2379, 6443].map(probe), ["open", "open", "open", "open"], "before the firewall");

      // host-firewall.sh as the program runs it, with systemctl faked (no systemd in a namespace).
      const bin = tempDir("fw-bin");
      fakeBin(bin, "systemctl");
      const root = tempDir("fw-root");
      const script = `${fs.readFileSync(path.join(ROOT, "k8s/bootstrap/scripts/lib.sh"), "utf8")}\n${fs.readFileSync(path.join(ROOT, "hosts/scripts/host-firewall.sh"), "utf8")}`;
      const firewall = (action: "apply" | "remove", input?: string) =>
        spawnSync(
          "ip",
          [
            "netns",
            "exec",
            NS.host,
            "env",
            `PATH=${bin}:${process.env.PATH}`,
            `OCI_K8S_ROOT=${root}`,
            "bash",
            "-c",
            script,
            "host-firewall",
            action,
          ],
          { input, encoding: "utf8" },
        );
      const r = firewall("apply", encodeSettings({ RULESET: renderRuleset(planFor("k3s"), hosts[2]) }));
      assert.equal(r.status, 0, r.stderr);
      assert.ok(fs.existsSync(path.join(root, "etc/oci-k8s/firewall.nft")));
      // The peer is cp-1 (a server): it reaches the kubelet; SSH comes from admins only; a worker runs no etcd or API.
      assert.deepEqual([22, 10250, 2379, 6443].map(probe), ["blocked", "open", "blocked", "blocked"], "after the firewall");

      const removed = firewall("remove");
      assert.equal(removed.status, 0, removed.stderr);
      assert.deepEqual([22, 2379].map(probe), ["open", "open"], "after remove");
    });
  });
});

describe("host firewall: the forward path (NodePorts, hostPorts) with real packets in namespaces", function () {
  this.timeout(60_000);
  const id = (process.pid % 100000) + 1;
  const NS = { host: `ock-fwd-host-${id}`, peer: `ock-fwd-peer-${id}`, pod: `ock-fwd-pod-${id}` };
  const POD_IP = "10.42.1.2";
  const inNs = (ns: string, cmd: string, args: string[]) => must("ip", ["netns", "exec", ns, cmd, ...args]);
  let listener: ChildProcess | undefined;

  before(async function () {
    requireTool(this, "nft");
    requireTool(this, "ip");
    requireRoot(this, "network namespaces need root");
    for (const ns of Object.values(NS)) must("ip", ["netns", "add", ns]);
    must("ip", ["link", "add", `fdh${id}`, "netns", NS.host, "type", "veth", "peer", "name", `fdp${id}`, "netns", NS.peer]);
    // The pod's side of the host is cni0, as flannel names its bridge.
    must("ip", ["link", "add", "cni0", "netns", NS.host, "type", "veth", "peer", "name", "eth0", "netns", NS.pod]);
    inNs(NS.host, "ip", ["addr", "add", "198.18.8.3/24", "dev", `fdh${id}`]);
    inNs(NS.host, "ip", ["addr", "add", "10.42.1.1/24", "dev", "cni0"]);
    // The peer namespace holds a cluster node (cp-1), an admin and an outsider on the same wire.
    for (const a of ["198.18.8.1/24", "198.18.8.50/24"]) inNs(NS.peer, "ip", ["addr", "add", a, "dev", `fdp${id}`]);
    inNs(NS.pod, "ip", ["addr", "add", `${POD_IP}/24`, "dev", "eth0"]);
    for (const [ns, dev] of [
      [NS.host, `fdh${id}`],
      [NS.host, "cni0"],
      [NS.peer, `fdp${id}`],
      [NS.pod, "eth0"],
    ]) {
      inNs(ns, "ip", ["link", "set", dev, "up"]);
      inNs(ns, "ip", ["link", "set", "lo", "up"]);
    }
    inNs(NS.pod, "ip", ["route", "add", "default", "via", "10.42.1.1"]);
    inNs(NS.peer, "ip", ["route", "add", "10.42.0.0/16", "via", "198.18.8.3"]);
    inNs(NS.host, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    // What kube-proxy does for a NodePort and what the portmap plugin does for a hostPort: DNAT to the pod.
    inNs(NS.host, "nft", [
      "-f",
      writeTemp(
        "kube-proxy.nft",
        `table ip stand_in_kube_proxy {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    tcp dport 30080 dnat to ${POD_IP}:8080
    tcp dport 443 dnat to ${POD_IP}:8443
  }
}
`,
      ),
    ]);
    listener = spawn(
      "ip",
      [
        "netns",
        "exec",
        NS.pod,
        process.execPath,
        "-e",
        `const net = require("net"); let up = 0;
         for (const p of [8080, 8443]) net.createServer((s) => s.end()).listen(p, "${POD_IP}", () => { if (++up === 2) console.log("listening"); });
         setTimeout(() => process.exit(0), 60000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => listener!.stdout!.on("data", (d) => String(d).includes("listening") && resolve()));
  });
  after(() => {
    listener?.kill();
    for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "delete", ns]);
  });

  /** Connects from the peer namespace, from a given source address, to the host's address. */
  const probe = (from: string, port: number) =>
    inNs(NS.peer, process.execPath, [
      "-e",
      `const s = require("net").connect({ host: "198.18.8.3", port: ${port}, localAddress: "${from}" });
       s.setTimeout(1500, () => { console.log("blocked"); process.exit(0); });
       s.on("connect", () => { console.log("open"); s.destroy(); });
       s.on("error", (e) => console.log(e.code));`,
    ]).trim();

  it("a NodePort reaches the pod from the other hosts only; 443 of an ingress host's hostPort from anyone", () => {
    const OUTSIDER = "198.18.8.50";
    const NODE = "198.18.8.1";
    assert.deepEqual([probe(OUTSIDER, 30080), probe(NODE, 30080)], ["open", "open"], "before the firewall");
    const worker = { ...hosts[2], ingress: true };
    const plan = planFor("k3s", [hosts[0], hosts[1], worker]);
    inNs(NS.host, "nft", ["-f", writeTemp("ruleset.nft", renderRuleset(plan, worker))]);
    assert.deepEqual(
      [probe(OUTSIDER, 30080), probe(NODE, 30080), probe(OUTSIDER, 443)],
      ["blocked", "open", "open"],
      "after the firewall: NodePort from an outsider, from a node, the ingress hostPort from an outsider",
    );
    inNs(NS.host, "nft", ["-f", writeTemp("not-ingress.nft", renderRuleset(plan, hosts[2]))]);
    assert.equal(probe(OUTSIDER, 443), "blocked", "a host that takes no ingress traffic forwards no web port");
  });

  it("admits the pod network only on the CNI's interfaces, and names protocols by number", () => {
    const text = renderRuleset(planFor("k3s"), hosts[2]);
    assert.match(text, /iifname \{ "cni0", "flannel\.1", "cali\*", "cbr0" \} ip saddr 10\.42\.0\.0\/16 accept/);
    assert.match(text, /meta l4proto \{ 1, 58 \} accept/);
    assert.doesNotMatch(text, /l4proto \{? ?[a-z]/, "a protocol by name needs /etc/protocols");
  });
});

function writeTemp(name: string, text: string): string {
  const file = path.join(tempDir("nft-forward"), name);
  fs.writeFileSync(file, text);
  return file;
}
