/**
 * Stacks of existing hosts under Pulumi's mock runtime: the three example stacks plan offline,
 * create nothing on Oracle Cloud, reach every host at its address (through the jump host where
 * set) with its pinned host key, and get kube-vip, MetalLB and the storage they ask for. Bad host
 * lists are refused, naming the field, before anything is registered.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { decodeSettings, settingsPart } from "../../k8s/bootstrap/scripts";
import { parse } from "yaml";
import { KUBE_VIP_IMAGE } from "../../k8s/bootstrap/kube-vip";
import { importEsm } from "../k8s/platform.fixtures";
import { named, ofType, Registered, ROOT, RunResult, runOk, runProgram, stackConfigFrom } from "../../scripts/mock-program";

const COMMAND = "command:remote:Command";
const example = (name: string) => stackConfigFrom(path.join(ROOT, "examples", "hosts", `Pulumi.${name}.yaml`));
/** A project key of a stack file's config. */
const key = (config: Record<string, unknown>, name: string) => config[`oci-k8s:${name}`];
const prefixed = (change: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(change).map(([k, v]) => [`oci-k8s:${k}`, v]));
const settingsOf = (r: Registered) => decodeSettings(String(r.inputs.stdin ?? ""));
const commandsOf = (r: RunResult, suffix: string) => ofType(r, COMMAND).filter((c) => c.name.endsWith(suffix));

const EXAMPLES = {
  "vps-kubeadm": { hosts: ["198.51.100.21", "198.51.100.22"], jump: undefined },
  "cloud-rke2": {
    hosts: ["10.20.0.11", "10.20.0.12", "10.20.0.13", "10.20.0.21", "10.20.0.22", "10.20.0.23"],
    jump: "bastion.example.net",
  },
  "onprem-ha": { hosts: ["10.10.0.11", "10.10.0.12", "10.10.0.13", "10.10.0.21", "10.10.0.22", "10.10.0.23"], jump: undefined },
} as const;

describe("existing hosts: the example stacks (mock runtime)", function () {
  this.timeout(60_000);
  const results = new Map<string, RunResult>();
  before(async () => {
    for (const name of Object.keys(EXAMPLES)) results.set(name, await runOk(name, example(name)));
  });

  for (const [name, want] of Object.entries(EXAMPLES)) {
    it(`${name}: plans offline and registers nothing on Oracle Cloud`, () => {
      const r = results.get(name)!;
      assert.deepEqual(
        r.resources.filter((x) => x.type.startsWith("oci:") || x.type === "pulumi:providers:oci").map((x) => x.type),
        [],
      );
      assert.ok(ofType(r, COMMAND).length > 20);
      for (const absent of ["vcnId", "subnetIds", "nsgIds", "freeTierUsage", "sshPublicKey"])
        assert.equal(r.outputs[absent], undefined, absent);
      const nodes = r.outputs.nodes as { name: string; shape?: string; publicIp: string }[];
      assert.deepEqual(
        nodes.map((n) => n.publicIp),
        [...want.hosts],
      );
      assert.ok(nodes.every((n) => n.shape === undefined));
    });

    it(`${name}: every command reaches a listed host${want.jump ? " through the jump host" : ""}, pinning host keys where given`, () => {
      const r = results.get(name)!;
      const config = example(name);
      const hosts = key(config, "hosts") as { address: string; hostKey?: string }[];
      // Pinned without the .pub line's comment.
      const keyOf = new Map(hosts.map((h) => [h.address, h.hostKey?.split(" ").slice(0, 2).join(" ")]));
      for (const c of ofType(r, COMMAND)) {
        const conn = c.inputs.connection;
        assert.ok((want.hosts as readonly string[]).includes(conn.host), `${c.name} connects to ${conn.host}`);
        assert.equal(conn.hostKey, keyOf.get(conn.host), `${c.name}: host key`);
        if (want.jump) {
          assert.equal(conn.proxy?.host, want.jump, `${c.name}: through the jump host`);
          assert.equal(conn.proxy?.hostKey, key(config, "jumpHostKey"));
        } else assert.equal(conn.proxy, undefined, `${c.name}: no jump host`);
      }
    });

    it(`${name}: each host is prepared before its bootstrap waits for it, and destroy uninstalls every host`, () => {
      const r = results.get(name)!;
      for (const host of key(example(name), "hosts") as { name: string }[]) {
        const prepare = named(r, COMMAND, `${host.name}-prepare`);
        const wait = named(r, COMMAND, `${host.name}-wait`);
        assert.ok(wait.dependencies.includes(prepare.urn), `${host.name}-wait waits for its preparation`);
        const uninstall = named(r, COMMAND, `${host.name}-uninstall`);
        assert.match(uninstall.inputs.delete, /uninstall/);
        // Destroy deletes dependents first: the uninstall (after the wait, after the preparation)
        // runs before the preparation's remove.
        assert.ok(uninstall.dependencies.includes(wait.urn), `${host.name}-uninstall waits for the host`);
        assert.match(prepare.inputs.delete, /prepare-host.* 'remove'$|prepare-host.* remove$/);
        assert.equal(settingsOf(prepare).READY_MARKER, "/var/lib/oci-k8s/host-ready", "the delete's stdin holds the settings");
        // A replacement removes the old preparation before the new one writes its marker.
        assert.equal(prepare.deleteBeforeReplace, true, `${host.name}-prepare: delete before replace`);
        const fw = r.resources.find((x) => x.name === `${host.name}-firewall`);
        if (fw) assert.equal(fw.deleteBeforeReplace, true, `${host.name}-firewall: delete before replace`);
      }
    });
  }

  it("every host's wait waits for the program's own marker only, not for a cloud-init the image may carry", () => {
    for (const r of results.values()) {
      assert.ok(commandsOf(r, "-wait").length > 0);
      for (const wait of commandsOf(r, "-wait"))
        assert.match(String(wait.inputs.create), / wait-host .*host-ready' 'marker-only'$|host-ready marker-only$/);
    }
  });

  it("vps-kubeadm: one server is the API endpoint; upstreamDns reaches prepare-host; the firewall is applied and removed on destroy", () => {
    const r = results.get("vps-kubeadm")!;
    assert.equal(r.outputs.apiUrl, "https://198.51.100.21:6443");
    assert.equal(settingsOf(named(r, COMMAND, "vps-1-prepare")).UPSTREAM_DNS, "1.1.1.1 9.9.9.9");
    for (const host of ["vps-1", "vps-2"]) {
      const fw = named(r, COMMAND, `${host}-firewall`);
      assert.match(fw.inputs.create, /host-firewall.* apply$/);
      assert.match(fw.inputs.delete, /host-firewall.* remove$/);
      assert.match(settingsOf(fw).RULESET, /table inet oci_k8s/);
    }
    assert.equal(commandsOf(r, "-kube-vip").length, 0);
  });

  it("cloud-rke2: the named load balancer is the API endpoint; Longhorn gets formatted data disks and open-iscsi", () => {
    const r = results.get("cloud-rke2")!;
    assert.equal(r.outputs.apiUrl, "https://api.k8s.example.net:6443");
    for (const c of commandsOf(r, "-prepare")) {
      const s = settingsOf(c);
      assert.equal(s.DATA_DISK, "/dev/sdb");
      assert.equal(s.DATA_DISK_RAW, "no");
      assert.equal(s.PACKAGES, "open-iscsi nfs-common");
    }
    assert.equal(commandsOf(r, "-firewall").length, 0, "hostFirewall is off");
    const longhorn = named(r, "kubernetes:helm.sh/v3:Release", "longhorn");
    assert.equal(longhorn.inputs.values.defaultSettings.defaultDataPath, "/var/mnt/k8s-data/longhorn");
    assert.equal(longhorn.inputs.values.defaultSettings.defaultReplicaCount, 3);
  });

  it("onprem-ha: kube-vip holds the VIP on every server; agents join through it; MetalLB peers over BGP; Ceph gets raw disks", async () => {
    const r = results.get("onprem-ha")!;
    assert.equal(r.outputs.apiUrl, "https://10.10.0.10:6443");
    const vips = commandsOf(r, "-kube-vip");
    assert.deepEqual(vips.map((c) => c.name).sort(), ["cp-1-kube-vip", "cp-2-kube-vip", "cp-3-kube-vip"]);
    for (const v of vips) {
      // kube-vip.sh checks the named interface on the server and puts it into the manifest.
      assert.match(v.inputs.create, / kube-vip \/etc\/kubernetes\/manifests\/kube-vip\.yaml 10\.10\.0\.1\d eno1$/);
      assert.ok(v.inputs.stdin.includes(KUBE_VIP_IMAGE));
      assert.match(v.inputs.stdin, /name: address\n\s+value: 10\.10\.0\.10/);
      assert.match(v.inputs.stdin, /name: vip_interface\n\s+value: "@VIP_INTERFACE@"/);
      assert.match(v.inputs.stdin, new RegExp(`name: vip_nodename\\n\\s+value: ${v.name.replace(/-kube-vip$/, "")}`));
    }
    // The manifest is a valid Pod by Kubernetes' own schema (kubernetes-models).
    const { Pod } = await importEsm("kubernetes-models/v1/Pod");
    // The manifest is what follows the script on stdin.
    for (const v of vips) new Pod(parse(settingsPart(v.inputs.stdin)) as never).validate();
    const cp1Vip = vips.find((v) => v.name === "cp-1-kube-vip")!;
    for (const agent of ["worker-1", "worker-2", "worker-3"]) {
      const install = named(r, COMMAND, `${agent}-install`);
      assert.ok(install.dependencies.includes(cp1Vip.urn), `${agent} joins once the VIP is held`);
      assert.equal(settingsOf(install).API_ADDRESS, "10.10.0.10", `${agent} pins the control-plane endpoint to the VIP`);
    }
    // MetalLB: its settings become its own objects, never Helm values.
    const metallb = named(r, "kubernetes:helm.sh/v3:Release", "metallb");
    for (const key of ["addresses", "mode", "peers", "myAsn"]) assert.equal(metallb.inputs.values[key], undefined, key);
    // Native BGP: no frr-k8s DaemonSet the capacity check would not count.
    assert.equal(metallb.inputs.values.frrk8s.enabled, false);
    assert.equal(metallb.inputs.values.speaker.frr.enabled, false);
    // kubeadm's servers carry node.kubernetes.io/exclude-from-external-load-balancers; their speakers
    // announce all the same (metallb v0.16.1 charts/metallb/templates/speaker.yaml: --ignore-exclude-lb).
    assert.equal(metallb.inputs.values.speaker.ignoreExcludeLB, true);
    const peers = r.resources.filter((x) => x.type === "kubernetes:metallb.io/v1beta2:BGPPeer");
    assert.deepEqual(
      peers.map((p) => [p.inputs.spec.peerAddress, p.inputs.spec.peerASN, p.inputs.spec.myASN]),
      [
        ["10.10.0.1", 64500, 64512],
        ["10.10.0.2", 64500, 64512],
      ],
    );
    assert.ok(peers.every((p) => p.dependencies.includes(metallb.urn)));
    const pool = named(r, "kubernetes:metallb.io/v1beta1:IPAddressPool", "metallb-ipaddresspool-default");
    assert.deepEqual(pool.inputs.spec.addresses, ["10.10.100.0/24"]);
    assert.equal(r.resources.filter((x) => x.type.endsWith(":L2Advertisement")).length, 0);
    // Rook-Ceph: the workers' disks stay raw, and lvm2 is there for its OSDs.
    for (const w of ["worker-1", "worker-2", "worker-3"]) {
      const s = settingsOf(named(r, COMMAND, `${w}-prepare`));
      assert.equal(s.DATA_DISK_RAW, "yes");
      assert.match(s.PACKAGES, /lvm2/);
    }
  });
});

describe("existing hosts: bad host lists are refused before anything is registered", () => {
  const base = example("onprem-ha");
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["hosts with nodes", { nodes: [{ name: "server-1", role: "server" }] }, /oci-k8s:nodes: .* cannot be combined with hosts/],
    [
      "a DNS address without privateIp",
      { hosts: [{ name: "a", role: "server", address: "vps.example.org" }] },
      /oci-k8s:hosts\[0\]\.privateIp: \(not set\) must be set when address is a DNS name/,
    ],
    [
      "an address that is neither",
      { hosts: [{ name: "a", role: "server", address: "not an address" }] },
      /hosts\[0\]\.address: "not an address" must be an IPv4 address or a DNS name/,
    ],
    [
      "a bad host key",
      { hosts: [{ name: "a", role: "server", address: "10.0.0.1", hostKey: "AAAA" }] },
      /hosts\[0\]\.hostKey: "AAAA" must be a complete OpenSSH public host key/,
    ],
    [
      "a data disk that is no device path",
      { hosts: [{ name: "a", role: "server", address: "10.0.0.1", dataDisk: "sdb" }] },
      /hosts\[0\]\.dataDisk: "sdb" must be a block device path/,
    ],
    ["an unknown field", { hosts: [{ name: "a", role: "server", address: "10.0.0.1", cpu: 4 }] }, /hosts\[0\]/],
    [
      "two etcd members",
      {
        hosts: [
          { name: "a", role: "server", address: "10.0.0.1" },
          { name: "b", role: "server", address: "10.0.0.2" },
        ],
        apiVip: "10.0.0.9",
      },
      /must have an odd number of etcd members/,
    ],
    [
      "three servers without a surviving endpoint",
      { apiVip: "" },
      /oci-k8s:apiVip: "" must be set \(or apiAddress\) with more than one server/,
    ],
    ["the VIP is a host's own address", { apiVip: "10.10.0.11" }, /oci-k8s:apiVip: "10\.10\.0\.11" is host cp-1's own address/],
    [
      "Rook-Ceph with two raw disks",
      { hosts: (key(base, "hosts") as object[]).slice(0, 5) },
      /"rook-ceph" needs a raw data disk on three or more machines/,
    ],
    [
      "MetalLB in BGP mode without peers",
      { componentValues: { metallb: { mode: "bgp", myAsn: 64512, addresses: ["10.10.100.0/24"] } } },
      /oci-k8s:componentValues\.metallb\.peers: .* must name at least one router in bgp mode/,
    ],
    [
      "MetalLB with a bad pool",
      { componentValues: { metallb: { addresses: ["10.10.100.0/33"] } } },
      /componentValues\.metallb\.addresses\.0: "10\.10\.100\.0\/33" must be a CIDR/,
    ],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what}`, async () => {
      const r = await runProgram("bad", { ...base, ...prefixed(change) });
      assert.ok(r.error, "no error");
      assert.match(r.error!.message, message);
      assert.match(r.error!.message, /nothing was created/);
      assert.deepEqual(
        r.resources.filter((x) => !x.read),
        [],
      );
    });
  }
});
