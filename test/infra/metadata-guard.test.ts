/**
 * Pods kept off Oracle's instance metadata service (issue 23, item 4), with real packets. Three
 * network namespaces: a "pod" (10.42.0.2, flannel's default pod network) routed through a "node"
 * to a "metadata" namespace that holds 169.254.169.254 with an HTTP listener (the metadata
 * service, which serves the user data and so the node's SSH host private key) and a DNS listener
 * on udp and tcp 53 (Oracle's resolver, which CoreDNS forwards to from the pod network). The node
 * reaches 169.254.0.0/16 on its link, as an Oracle instance does (`169.254.0.0/16 dev ens3`), runs
 * Oracle's image firewall (test/fixtures/oci-ubuntu-rules.v4) with the project's fix, masquerades
 * pod traffic as flannel does, and accepts pod traffic in FORWARD as the CNIs do. The guard is the
 * ruleset the registered cloud-config writes (infra/scripts/metadata-guard.nft).
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { METADATA_GUARD_TABLE, renderCloudConfig } from "../../infra/cloud-init";
import { ROOT } from "../../scripts/mock-program";
import { must, requireRoot, requireTool, tempDir } from "../tools";

const RULES = path.join(ROOT, "test", "fixtures", "oci-ubuntu-rules.v4");
const FIX_SCRIPT = path.join(ROOT, "infra", "scripts", "oci-firewall-fix.sh");
const id = process.pid % 100000;
const NS = { pod: `ocm-pod-${id}`, node: `ocm-node-${id}`, metadata: `ocm-md-${id}` };
const METADATA_IP = "169.254.169.254";
const POD_IP = "10.42.0.2";
const NODE_LINK_IP = "198.18.0.1";
/** A Service address kube-proxy would DNAT to an endpoint at the metadata address. */
const SERVICE_IP = "10.43.0.99";

/** The guard's ruleset as the cloud-config registered for every Oracle node writes it. */
function registeredGuard(): string {
  const doc = parse(renderCloudConfig({ dataVolume: false }));
  const file = doc.write_files.find((f: { path: string }) => f.path === "/etc/oci-k8s/metadata-guard.nft");
  assert.ok(file, "the cloud-config writes /etc/oci-k8s/metadata-guard.nft");
  return file.content;
}

const inNs = (ns: string, cmd: string, args: string[], input?: string) =>
  must("ip", ["netns", "exec", ns, cmd, ...args], input === undefined ? {} : { input });

/** A TCP connect from a namespace: "open", or the error code (ECONNREFUSED for a tcp reset). */
function tcp(ns: string, ip: string, port: number): string {
  const script = `
    const s = require("net").connect({ host: "${ip}", port: ${port} });
    s.setTimeout(3000, () => { console.log("TIMEOUT"); process.exit(0); });
    s.on("connect", () => { console.log("open"); s.destroy(); });
    s.on("error", (e) => console.log(e.code));`;
  return inNs(ns, process.execPath, ["-e", script]).trim();
}

/** A UDP query to port 53 from a namespace: the listener's answer, or TIMEOUT / the error code. */
function udp53(ns: string, ip: string): string {
  const script = `
    const s = require("dgram").createSocket("udp4");
    const t = setTimeout(() => { console.log("TIMEOUT"); process.exit(0); }, 3000);
    s.on("message", (m) => { console.log(String(m)); clearTimeout(t); s.close(); });
    s.on("error", (e) => { console.log(e.code); process.exit(0); });
    s.connect(53, "${ip}", () => s.send("query"));`;
  return inNs(ns, process.execPath, ["-e", script]).trim();
}

/** The metadata namespace's services: HTTP on 80, DNS on udp and tcp 53. */
function metadataService(): ChildProcess {
  const script = `
    const net = require("net"), dgram = require("dgram");
    let up = 0; const ready = () => { if (++up === 3) console.log("listening"); };
    for (const p of [80, 53]) net.createServer((s) => { s.on("error", () => {}); s.end("answer"); }).listen(p, "${METADATA_IP}", ready);
    const d = dgram.createSocket("udp4");
    d.on("message", (m, r) => d.send("answer", r.port, r.address));
    d.bind(53, "${METADATA_IP}", ready);
    setTimeout(() => process.exit(0), 120000);`;
  return spawn("ip", ["netns", "exec", NS.metadata, process.execPath, "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
}

describe("metadata guard: pods off 169.254.169.254, DNS kept (real packets in network namespaces)", function () {
  this.timeout(60_000);
  let service: ChildProcess | undefined;
  let rulesFile = "";

  before(async function () {
    requireRoot(this, "network namespaces, iptables and nftables");
    for (const tool of ["ip", "iptables", "iptables-restore", "nft"]) requireTool(this, tool);
    for (const ns of Object.values(NS)) must("ip", ["netns", "add", ns]);
    const link = (a: string, b: string, nsA: string, nsB: string) => {
      must("ip", ["link", "add", a, "type", "veth", "peer", "name", b]);
      must("ip", ["link", "set", a, "netns", nsA]);
      must("ip", ["link", "set", b, "netns", nsB]);
    };
    // pod 10.42.0.2 <-> 10.42.0.1 node 198.18.0.1 <-> 169.254.169.254 metadata
    link("ocmp0", "ocmn0", NS.pod, NS.node);
    link("ocmn1", "ocmm0", NS.node, NS.metadata);
    const up = (ns: string, dev: string, cidr: string) => {
      inNs(ns, "ip", ["addr", "add", cidr, "dev", dev]);
      inNs(ns, "ip", ["link", "set", dev, "up"]);
    };
    up(NS.pod, "ocmp0", `${POD_IP}/24`);
    up(NS.node, "ocmn0", "10.42.0.1/24");
    up(NS.node, "ocmn1", `${NODE_LINK_IP}/24`);
    up(NS.metadata, "ocmm0", `${METADATA_IP}/16`);
    for (const ns of Object.values(NS)) inNs(ns, "ip", ["link", "set", "lo", "up"]);
    inNs(NS.pod, "ip", ["route", "add", "default", "via", "10.42.0.1"]);
    inNs(NS.node, "ip", ["route", "add", "169.254.0.0/16", "dev", "ocmn1"]);
    inNs(NS.metadata, "ip", ["route", "add", `${NODE_LINK_IP}/32`, "dev", "ocmm0"]);
    inNs(NS.node, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    // Oracle's image firewall with the project's fix, as host prep leaves it.
    inNs(NS.node, "iptables-restore", [RULES]);
    rulesFile = path.join(tempDir("metadata-guard"), "rules.v4");
    fs.copyFileSync(RULES, rulesFile);
    must("ip", ["netns", "exec", NS.node, "env", `OCI_K8S_RULES_FILE=${rulesFile}`, "bash", FIX_SCRIPT]);
    // What the CNI adds: flannel's masquerade of pod traffic leaving the pod network and its FORWARD
    // accepts (kube-flannel v0.27, k3s and Canal alike), inserted at the top; kube-proxy's DNAT of
    // a Service to an endpoint.
    inNs(NS.node, "iptables", [
      "-t",
      "nat",
      "-A",
      "POSTROUTING",
      "-s",
      "10.42.0.0/16",
      "!",
      "-d",
      "10.42.0.0/16",
      "-j",
      "MASQUERADE",
    ]);
    inNs(NS.node, "iptables", ["-I", "FORWARD", "1", "-s", "10.42.0.0/16", "-j", "ACCEPT"]);
    inNs(NS.node, "iptables", ["-I", "FORWARD", "1", "-d", "10.42.0.0/16", "-j", "ACCEPT"]);
    inNs(NS.node, "iptables", [
      "-t",
      "nat",
      "-A",
      "PREROUTING",
      "-d",
      SERVICE_IP,
      "-p",
      "tcp",
      "--dport",
      "80",
      "-j",
      "DNAT",
      "--to-destination",
      `${METADATA_IP}:80`,
    ]);
    service = metadataService();
    await new Promise<void>((resolve, reject) => {
      service!.stdout!.on("data", (d) => String(d).includes("listening") && resolve());
      service!.on("exit", (code) => reject(new Error(`metadata service exited ${code}`)));
    });
  });

  after(() => {
    service?.kill();
    for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns]);
  });

  it("without the guard, a pod reads the metadata service over HTTP (the hole)", () => {
    assert.equal(tcp(NS.pod, METADATA_IP, 80), "open");
    assert.equal(tcp(NS.pod, SERVICE_IP, 80), "open");
  });

  it("the registered ruleset loads, and loading it again leaves one table of the same rules", () => {
    const guard = registeredGuard();
    inNs(NS.node, "nft", ["-f", "-"], guard);
    const once = inNs(NS.node, "nft", ["list", "table", ...METADATA_GUARD_TABLE.split(" ")]);
    inNs(NS.node, "nft", ["-f", "-"], guard);
    assert.equal(inNs(NS.node, "nft", ["list", "table", ...METADATA_GUARD_TABLE.split(" ")]), once);
    assert.match(once, /hook forward/);
  });

  it("with the guard, a pod's HTTP to 169.254.169.254 is refused, directly and through a Service's DNAT", () => {
    assert.equal(tcp(NS.pod, METADATA_IP, 80), "ECONNREFUSED");
    assert.equal(tcp(NS.pod, SERVICE_IP, 80), "ECONNREFUSED");
  });

  it("a pod's DNS to Oracle's resolver is still answered, on udp and tcp 53", () => {
    assert.equal(udp53(NS.pod, METADATA_IP), "answer");
    assert.equal(tcp(NS.pod, METADATA_IP, 53), "open");
  });

  it("the node's own HTTP and DNS to the metadata service still work (Oracle's OUTPUT rules decide those)", () => {
    assert.equal(tcp(NS.node, METADATA_IP, 80), "open");
    assert.equal(udp53(NS.node, METADATA_IP), "answer");
  });

  it("netfilter-persistent's restore of the saved rules and the CNI's FORWARD accepts leave it in force", () => {
    inNs(NS.node, "iptables-restore", [rulesFile]);
    inNs(NS.node, "iptables", ["-I", "FORWARD", "1", "-j", "ACCEPT"]);
    assert.equal(tcp(NS.pod, METADATA_IP, 80), "ECONNREFUSED");
    assert.equal(udp53(NS.pod, METADATA_IP), "answer");
  });
});
