/**
 * The image firewall fix, run for real: Oracle's Ubuntu rules (shared/reference fixture) are
 * loaded into iptables inside a network namespace that plays the node; a client namespace and a
 * "pod" namespace routed through the node are joined by veth pairs. Traffic is measured before
 * and after the project's fix script. Addresses come from 198.18.0.0/15 (RFC 2544 test range)
 * and exist only inside these namespaces.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../scripts/mock-program";
import { must, requireRoot, requireTool, tempDir } from "../tools";

/** Oracle's Ubuntu image rules (a copy of shared/reference/oci-ubuntu-rules.v4, kept identical by a test). */
const FIXTURE = path.join(ROOT, "test", "fixtures", "oci-ubuntu-rules.v4");
const SHARED_FIXTURE = path.resolve(ROOT, "..", "shared", "reference", "oci-ubuntu-rules.v4");
const FIX_SCRIPT = path.join(ROOT, "infra", "scripts", "oci-firewall-fix.sh");
const id = process.pid % 100000;
const NS = { client: `ock-client-${id}`, node: `ock-node-${id}`, pod: `ock-pod-${id}` };
const NODE_IP = "198.18.0.1";
const POD_IP = "198.18.1.2";

const inNs = (ns: string, cmd: string, args: string[], env: Record<string, string> = {}) =>
  must("ip", ["netns", "exec", ns, "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args]);
const iptablesRules = (chain?: string) =>
  inNs(NS.node, "iptables", ["-S", ...(chain ? [chain] : [])])
    .trim()
    .split("\n");

/** Connects from the client namespace; answers "open" or the error code (EHOSTUNREACH for icmp-host-prohibited). */
function probe(ip: string, port: number): string {
  const script = `
    const s = require("net").connect({ host: "${ip}", port: ${port} });
    s.setTimeout(3000, () => { console.log("TIMEOUT"); process.exit(0); });
    s.on("connect", () => { console.log("open"); s.destroy(); });
    s.on("error", (e) => console.log(e.code));`;
  return inNs(NS.client, process.execPath, ["-e", script]).trim();
}

function listen(ns: string, ip: string, ports: number[]): ChildProcess {
  const script = `
    const net = require("net");
    let up = 0;
    for (const p of ${JSON.stringify(ports)}) net.createServer((s) => s.end()).listen(p, "${ip}", () => { if (++up === ${ports.length}) console.log("listening"); });
    setTimeout(() => process.exit(0), 120000);`;
  return spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
}

async function untilListening(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("listening") && resolve());
    child.on("exit", (code) => reject(new Error(`listener exited ${code}`)));
  });
}

describe("OCI image firewall fix (real iptables in network namespaces)", function () {
  this.timeout(60_000);
  const listeners: ChildProcess[] = [];
  let rulesFile: string;
  let instanceServicesBefore: string[];

  before(async function () {
    requireRoot(this, "network namespaces and iptables");
    for (const tool of ["ip", "iptables", "iptables-restore"]) requireTool(this, tool);
    for (const ns of Object.values(NS)) must("ip", ["netns", "add", ns]);
    // client 198.18.0.2 <-> 198.18.0.1 node 198.18.1.1 <-> 198.18.1.2 pod
    const link = (a: string, b: string, nsA: string, nsB: string) => {
      must("ip", ["link", "add", a, "type", "veth", "peer", "name", b]);
      must("ip", ["link", "set", a, "netns", nsA]);
      must("ip", ["link", "set", b, "netns", nsB]);
    };
    link("ockc0", "ockn0", NS.client, NS.node);
    link("ockn1", "ockp0", NS.node, NS.pod);
    const addr = (ns: string, dev: string, cidr: string) => {
      inNs(ns, "ip", ["addr", "add", cidr, "dev", dev]);
      inNs(ns, "ip", ["link", "set", dev, "up"]);
    };
    addr(NS.client, "ockc0", "198.18.0.2/24");
    addr(NS.node, "ockn0", `${NODE_IP}/24`);
    addr(NS.node, "ockn1", "198.18.1.1/24");
    addr(NS.pod, "ockp0", `${POD_IP}/24`);
    for (const ns of Object.values(NS)) inNs(ns, "ip", ["link", "set", "lo", "up"]);
    inNs(NS.client, "ip", ["route", "add", "198.18.1.0/24", "via", NODE_IP]);
    inNs(NS.pod, "ip", ["route", "add", "198.18.0.0/24", "via", "198.18.1.1"]);
    inNs(NS.node, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);

    rulesFile = path.join(tempDir("firewall"), "rules.v4");
    fs.copyFileSync(FIXTURE, rulesFile);
    inNs(NS.node, "iptables-restore", [rulesFile]);
    instanceServicesBefore = iptablesRules("InstanceServices");

    listeners.push(listen(NS.node, NODE_IP, [6443, 10250]), listen(NS.pod, POD_IP, [10250]));
    await Promise.all(listeners.map(untilListening));
  });

  after(() => {
    for (const l of listeners) l.kill();
    for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  });

  it("uses the same rules as the project's shared reference, where that folder is present", function () {
    if (!fs.existsSync(SHARED_FIXTURE)) this.skip(); // not a tool: the shared reference folder beside the repo
    assert.equal(fs.readFileSync(FIXTURE, "utf8"), fs.readFileSync(SHARED_FIXTURE, "utf8"));
  });

  it("before the fix, the image's REJECT rules refuse 6443 and 10250 on the node and forwarded pod traffic", () => {
    assert.equal(probe(NODE_IP, 6443), "EHOSTUNREACH");
    assert.equal(probe(NODE_IP, 10250), "EHOSTUNREACH");
    assert.equal(probe(POD_IP, 10250), "EHOSTUNREACH");
    assert.ok(iptablesRules("INPUT").includes("-A INPUT -j REJECT --reject-with icmp-host-prohibited"));
    assert.equal(instanceServicesBefore.length, 16, "fixture's InstanceServices chain: 1 declaration + 15 rules");
  });

  it("the fix deletes exactly the two REJECT rules, live and in the saved file", () => {
    const before = iptablesRules();
    const out = inNs(NS.node, "bash", [FIX_SCRIPT], { OCI_K8S_RULES_FILE: rulesFile });
    assert.match(out, /deleted the REJECT rule of INPUT/);
    assert.match(out, /deleted the REJECT rule of FORWARD/);
    const after = iptablesRules();
    assert.deepEqual(
      before.filter((r) => !after.includes(r)),
      ["-A INPUT -j REJECT --reject-with icmp-host-prohibited", "-A FORWARD -j REJECT --reject-with icmp-host-prohibited"],
    );
    assert.equal(after.length, before.length - 2);
    const saved = fs.readFileSync(rulesFile, "utf8");
    const fixture = fs.readFileSync(FIXTURE, "utf8");
    assert.doesNotMatch(saved, /-j REJECT --reject-with icmp-host-prohibited/);
    assert.equal(saved.split("\n").length, fixture.split("\n").length - 2);
  });

  it("keeps InstanceServices and the OUTPUT jump to it intact", () => {
    assert.deepEqual(iptablesRules("InstanceServices"), instanceServicesBefore);
    assert.ok(iptablesRules("OUTPUT").includes("-A OUTPUT -d 169.254.0.0/16 -j InstanceServices"));
    assert.match(fs.readFileSync(rulesFile, "utf8"), /-A InstanceServices -d 169\.254\.169\.254\/32 -p tcp -m tcp --dport 80/);
  });

  it("after the fix, TCP reaches 6443 and 10250 on the node and 10250 on a pod behind it", () => {
    assert.equal(probe(NODE_IP, 6443), "open");
    assert.equal(probe(NODE_IP, 10250), "open");
    assert.equal(probe(POD_IP, 10250), "open");
  });

  it("a second run changes nothing", () => {
    const rules = iptablesRules();
    const saved = fs.readFileSync(rulesFile, "utf8");
    const out = inNs(NS.node, "bash", [FIX_SCRIPT], { OCI_K8S_RULES_FILE: rulesFile });
    assert.equal(out, "");
    assert.deepEqual(iptablesRules(), rules);
    assert.equal(fs.readFileSync(rulesFile, "utf8"), saved);
  });

  it("the saved file, restored at boot, keeps the node open", () => {
    inNs(NS.node, "iptables-restore", [rulesFile]);
    assert.equal(probe(NODE_IP, 6443), "open");
    assert.equal(probe(POD_IP, 10250), "open");
  });
});
