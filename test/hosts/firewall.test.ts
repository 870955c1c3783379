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
