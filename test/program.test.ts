/** The whole program under the mock runtime: the resource graph of each stack file and of fixtures. */
import { strict as assert } from "assert";
import { HOST_READY_MARKER } from "../infra/cloud-init";
import { DATA_DEVICE } from "../infra/cloud-init";
import { MINIMAL_CONFIG, named, ofType, Registered, RunResult, runProgram, stackConfig, runOk } from "../scripts/mock-program";

const INSTANCE = "oci:Core/instance:Instance";
const VOLUME = "oci:Core/volume:Volume";
const ATTACHMENT = "oci:Core/volumeAttachment:VolumeAttachment";
const RULE = "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule";
const NLB = "oci:NetworkLoadBalancer/networkLoadBalancer:NetworkLoadBalancer";
const BACKEND_SET = "oci:NetworkLoadBalancer/networkLoadBalancersBackendSetsUnified:NetworkLoadBalancersBackendSetsUnified";
const LISTENER = "oci:NetworkLoadBalancer/listener:Listener";

const run = runOk;

const userData = (i: Registered) => Buffer.from(i.inputs.metadata.user_data, "base64").toString("utf8");
const isWorld = (rule: Registered) => rule.inputs.source === "0.0.0.0/0";
const portOf = (rule: Registered) => (rule.inputs.tcpOptions ?? rule.inputs.udpOptions)?.destinationPortRange;
const opensPort = (rule: Registered, port: number) => {
  const range = portOf(rule);
  return rule.inputs.protocol === "all" || (range !== undefined && range.min <= port && port <= range.max);
};

/** Rules whose source is another NSG, as "nsg protocol min-max from source", sorted. */
function nodeToNodeRules(r: RunResult): string[] {
  return ofType(r, RULE)
    .filter((x) => x.inputs.sourceType === "NETWORK_SECURITY_GROUP")
    .map(
      (x) => `${x.inputs.networkSecurityGroupId} ${x.inputs.protocol} ${portOf(x).min}-${portOf(x).max} from ${x.inputs.source}`,
    )
    .sort();
}

/** Every ingress rule, in every NSG, that admits the world. */
function worldIngress(r: RunResult) {
  return ofType(r, RULE).filter((rule) => rule.inputs.direction === "INGRESS" && isWorld(rule));
}

function assertNoAdminPortFromWorld(r: RunResult) {
  for (const port of [22, 6443]) {
    const open = worldIngress(r).filter((rule) => opensPort(rule, port));
    assert.deepEqual(
      open.map((x) => x.name),
      [],
      `port ${port} is open to 0.0.0.0/0`,
    );
  }
  // The VCN's default security list (Oracle opens 22 to the world in it) is replaced.
  const dsl = named(r, "oci:Core/defaultSecurityList:DefaultSecurityList", "default-security-list");
  for (const rule of dsl.inputs.ingressSecurityRules)
    assert.equal(rule.protocol, "1", "only ICMP enters through the security list");
}

describe("program: dev stack (Always Free)", function () {
  let r: RunResult;
  before(async () => {
    r = await run("dev", stackConfig("dev"));
  });

  it("creates one A1 server and two E2.1.Micro agents with the free sizes", () => {
    const instances = ofType(r, INSTANCE);
    assert.deepEqual(instances.map((i) => i.name).sort(), ["micro-1", "micro-2", "server-1"]);
    const server = named(r, INSTANCE, "server-1");
    assert.equal(server.inputs.shape, "VM.Standard.A1.Flex");
    assert.deepEqual(server.inputs.shapeConfig, { ocpus: 2, memoryInGbs: 12 });
    for (const micro of ["micro-1", "micro-2"]) {
      const m = named(r, INSTANCE, micro);
      assert.equal(m.inputs.shape, "VM.Standard.E2.1.Micro");
      assert.equal(m.inputs.shapeConfig, undefined, "a fixed shape takes no shapeConfig");
    }
    for (const i of instances) {
      assert.equal(i.inputs.sourceDetails.bootVolumeSizeInGbs, "50");
      assert.equal(i.inputs.preserveBootVolume, false);
      assert.equal(i.inputs.instanceOptions.areLegacyImdsEndpointsDisabled, true);
    }
  });

  it("picks the newest non-Minimal image of the right architecture per shape", () => {
    assert.equal(named(r, INSTANCE, "server-1").inputs.sourceDetails.sourceId, "ocid1.image.oc1.eu-frankfurt-1.arm-new");
    assert.equal(named(r, INSTANCE, "micro-1").inputs.sourceDetails.sourceId, "ocid1.image.oc1.eu-frankfurt-1.x86-new");
  });

  it("gives only the server a data volume, paravirtualized on the consistent device path, in the instance's AD", () => {
    const volumes = ofType(r, VOLUME);
    assert.deepEqual(
      volumes.map((v) => v.name),
      ["server-1-data"],
    );
    assert.equal(volumes[0].inputs.sizeInGbs, "50");
    assert.equal(volumes[0].inputs.availabilityDomain, named(r, INSTANCE, "server-1").inputs.availabilityDomain);
    const attachment = named(r, ATTACHMENT, "server-1-data");
    assert.equal(attachment.inputs.attachmentType, "paravirtualized");
    assert.equal(attachment.inputs.device, DATA_DEVICE);
    assert.equal(attachment.inputs.instanceId, "server-1-id");
    assert.match(userData(named(r, INSTANCE, "server-1")), /DATA_VOLUME=yes/);
    assert.match(userData(named(r, INSTANCE, "micro-1")), /DATA_VOLUME=no/);
  });

  it("boots every node with the host preparation and its ready marker, within the metadata limit", () => {
    for (const i of ofType(r, INSTANCE)) {
      const text = userData(i);
      assert.ok(text.startsWith("#cloud-config\n"));
      assert.ok(text.includes(HOST_READY_MARKER));
      assert.ok(text.includes("oci-k8s-firewall-fix"));
      const metadataBytes = Object.values(i.inputs.metadata as Record<string, string>).reduce(
        (n, v) => n + Buffer.byteLength(v),
        0,
      );
      assert.ok(metadataBytes < 32000, `metadata is ${metadataBytes} bytes; Oracle allows 32,000`);
    }
  });

  it("spreads nodes over the region's ADs in AD order", () => {
    const ads = ["server-1", "micro-1", "micro-2"].map((n) => named(r, INSTANCE, n).inputs.availabilityDomain);
    assert.deepEqual(ads, ["Uocm:EU-FRANKFURT-1-AD-1", "Uocm:EU-FRANKFURT-1-AD-2", "Uocm:EU-FRANKFURT-1-AD-3"]);
  });

  it("puts nodes in the public subnet with public IPs and the right NSGs; no NAT on Always Free", () => {
    assert.equal(ofType(r, "oci:Core/natGateway:NatGateway").length, 0);
    assert.equal(ofType(r, "oci:Core/subnet:Subnet").length, 1);
    const server = named(r, INSTANCE, "server-1").inputs.createVnicDetails;
    assert.equal(server.assignPublicIp, "true");
    assert.equal(server.subnetId, "public-subnet-id");
    assert.deepEqual(server.nsgIds, ["nsg-nodes-id", "nsg-servers-id", "nsg-ingress-id"]);
    assert.deepEqual(named(r, INSTANCE, "micro-1").inputs.createVnicDetails.nsgIds, ["nsg-nodes-id"]);
  });

  it("opens node-exporter's 9100 between nodes (and to nothing else) on every distribution", async () => {
    for (const distribution of ["k3s", "rke2", "kubeadm"]) {
      const d = distribution === "k3s" ? r : await run("ports", { ...stackConfig("dev"), "oci-k8s:distribution": distribution });
      const rules = ofType(d, RULE).filter((x) => opensPort(x, 9100) && x.inputs.direction === "INGRESS");
      assert.deepEqual(
        rules.map((x) => `${x.inputs.networkSecurityGroupId} from ${x.inputs.source}`),
        ["nsg-nodes-id from nsg-nodes-id"],
        distribution,
      );
    }
  });

  it("opens 22 and 6443 only to the admin CIDRs and 80/443 to the world", () => {
    assertNoAdminPortFromWorld(r);
    const ssh = ofType(r, RULE).filter((x) => opensPort(x, 22) && x.inputs.direction === "INGRESS");
    assert.deepEqual(
      ssh.map((x) => x.inputs.source),
      ["203.0.113.10/32"],
    );
    const world = worldIngress(r)
      .map((x) => `${x.name}`)
      .sort();
    assert.deepEqual(world, [
      "rule-ingress-in-tcp-443-from-0-0-0-0-0",
      "rule-ingress-in-tcp-80-from-0-0-0-0-0",
      "rule-loadBalancer-in-icmp-from-0-0-0-0-0",
      "rule-loadBalancer-in-tcp-443-from-0-0-0-0-0",
      "rule-loadBalancer-in-tcp-80-from-0-0-0-0-0",
      "rule-nodes-in-icmp-from-0-0-0-0-0",
    ]);
    for (const icmp of ofType(r, RULE).filter((x) => x.inputs.protocol === "1")) {
      assert.deepEqual(icmp.inputs.icmpOptions, { type: 3, code: 4 });
    }
  });

  it("opens exactly k3s's node ports between nodes", () => {
    const between = nodeToNodeRules(r);
    assert.deepEqual(between, [
      "nsg-nodes-id 17 8472-8472 from nsg-nodes-id",
      "nsg-nodes-id 6 10250-10250 from nsg-nodes-id",
      "nsg-nodes-id 6 9100-9100 from nsg-nodes-id",
      "nsg-servers-id 6 2379-2380 from nsg-servers-id",
      "nsg-servers-id 6 6443-6443 from nsg-loadBalancer-id",
      "nsg-servers-id 6 6443-6443 from nsg-nodes-id",
    ]);
  });

  it("builds one public NLB on a reserved IP: 80/443 to the A1 node with client IP kept, 6443 to the server", () => {
    const nlb = named(r, NLB, "nlb");
    assert.equal(nlb.inputs.isPrivate, false);
    assert.deepEqual(nlb.inputs.networkSecurityGroupIds, ["nsg-loadBalancer-id"]);
    assert.deepEqual(nlb.inputs.reservedIps, [{ id: "public-ip-id" }]);
    // A fixed address in the public subnet 10.0.0.0/24 (Oracle keeps .255): nodes can be told it in advance.
    assert.equal(nlb.inputs.assignedPrivateIpv4, "10.0.0.254");
    assert.equal(named(r, "oci:Core/publicIp:PublicIp", "public-ip").inputs.lifetime, "RESERVED");
    const sets = Object.fromEntries(ofType(r, BACKEND_SET).map((s) => [s.inputs.name, s.inputs]));
    assert.deepEqual(Object.keys(sets).sort(), ["http", "https", "kube-api"]);
    assert.equal(sets.http.isPreserveSource, true);
    assert.equal(sets.https.isPreserveSource, true);
    assert.equal(sets["kube-api"].isPreserveSource, false);
    for (const [name, port] of [
      ["http", 80],
      ["https", 443],
      ["kube-api", 6443],
    ] as const) {
      assert.deepEqual(sets[name].healthChecker.protocol, "TCP");
      assert.equal(sets[name].healthChecker.port, port);
      assert.deepEqual(sets[name].backends, [{ name: `server-1-${port}`, targetId: "server-1-id", port }]);
    }
    assert.deepEqual(
      ofType(r, LISTENER).map((l) => [l.inputs.port, l.inputs.protocol, l.inputs.defaultBackendSetName]),
      [
        [6443, "TCP", "kube-api"],
        [80, "TCP", "http"],
        [443, "TCP", "https"],
      ],
    );
  });

  it("changes the load balancer one step at a time (Oracle answers 409 to concurrent changes), the API first", () => {
    const byName = (n: string) => r.resources.find((x) => x.name === n)!;
    const chain = [
      "kube-api-backends",
      "kube-api-listener",
      "http-backends",
      "https-backends",
      "http-listener",
      "https-listener",
    ].map(byName);
    const urns = [named(r, NLB, "nlb").urn, ...chain.map((c) => c.urn)];
    chain.forEach((c, i) => assert.ok(c.dependencies.includes(urns[i]), `${c.name} does not wait for the step before it`));
  });

  it("exports the outputs contract, with the kubeconfig and the generated SSH private key as the only secrets", () => {
    assert.deepEqual(r.secretOutputs.sort(), ["kubeconfig", "sshPrivateKey"]);
    assert.equal(r.outputs.ingressPublicIp, "192.0.2.10");
    assert.equal(r.outputs.apiUrl, "https://192.0.2.10:6443");
    assert.equal(r.outputs.distributionVersion, "v1.34.9+k3s1");
    assert.equal(r.outputs.vcnId, "vcn-id");
    assert.deepEqual(r.outputs.subnetIds, { public: "public-subnet-id", private: undefined });
    assert.deepEqual(Object.keys(r.outputs.nsgIds as object), ["nodes", "servers", "ingress", "loadBalancer"]);
    const nodes = r.outputs.nodes as Record<string, any>[];
    assert.deepEqual(
      nodes.map((n) => [n.name, n.role, n.arch]),
      [
        ["server-1", "server", "arm64"],
        ["micro-1", "agent", "amd64"],
        ["micro-2", "agent", "amd64"],
      ],
    );
    for (const n of nodes) {
      assert.match(n.privateIp, /^10\.0\.0\./);
      assert.match(n.publicIp, /^198\.51\.100\./);
    }
    assert.deepEqual(nodes[1].taints, ["oci-k8s.io/micro=true:NoSchedule"]);
    assert.equal(nodes[0].labels["oci-k8s.io/ingress"], "true");
    const usage = r.outputs.freeTierUsage as { resource: string; used: number; allowed: number }[];
    assert.deepEqual(
      usage.find((u) => u.resource === "blockStorageGb"),
      {
        resource: "blockStorageGb",
        label: "Block storage (boot + data)",
        unit: "GB",
        used: 200,
        allowed: 200,
        excess: 0,
        monthlyCostUsd: 0,
        overLimit: false,
      },
    );
  });

  it("keeps derived picks (image, AD) and first-boot user data from replacing running nodes", () => {
    for (const i of ofType(r, INSTANCE)) {
      assert.deepEqual(i.ignoreChanges.sort(), ["availabilityDomain", "metadata.user_data", "sourceDetails.sourceId"]);
    }
  });

  it("ignores the reserved IP's privateIpId, which Oracle sets when the load balancer takes the address", () => {
    const [ip] = ofType(r, "oci:Core/publicIp:PublicIp");
    assert.equal(ip.inputs.lifetime, "RESERVED");
    assert.equal(ip.inputs.privateIpId, undefined);
    assert.deepEqual(ip.ignoreChanges, ["privateIpId"]);
  });
});

describe("program: prd stack (PAYG, HA at $0, NAT)", function () {
  let r: RunResult;
  before(async () => {
    r = await run("prd", stackConfig("prd"));
  });

  it("creates two A1 servers in two ADs, an etcd-only micro as the third etcd member, and a public micro jump host", () => {
    const servers = ["server-1", "server-2"].map((n) => named(r, INSTANCE, n));
    assert.deepEqual(
      servers.map((s) => s.inputs.availabilityDomain),
      ["Uocm:EU-FRANKFURT-1-AD-1", "Uocm:EU-FRANKFURT-1-AD-2"],
    );
    assert.deepEqual(
      servers.map((s) => s.inputs.shapeConfig),
      [
        { ocpus: 1, memoryInGbs: 6 },
        { ocpus: 1, memoryInGbs: 6 },
      ],
    );
    const etcd = named(r, INSTANCE, "etcd-1");
    assert.equal(etcd.inputs.shape, "VM.Standard.E2.1.Micro");
    assert.equal(etcd.inputs.createVnicDetails.subnetId, "private-subnet-id");
    // Three etcd members on three nodes: the servers' NSG (etcd peers) holds all three.
    const inServers = ofType(r, INSTANCE).filter((i) => i.inputs.createVnicDetails.nsgIds.includes("nsg-servers-id"));
    assert.deepEqual(inServers.map((i) => i.name).sort(), ["etcd-1", "server-1", "server-2"]);
    const nodes = r.outputs.nodes as { name: string; role: string; taints: string[] }[];
    assert.deepEqual(nodes.find((n) => n.name === "etcd-1")!.taints, [
      "oci-k8s.io/micro=true:NoSchedule",
      "node-role.kubernetes.io/etcd=true:NoExecute",
    ]);
    const bastion = named(r, INSTANCE, "bastion-1");
    assert.equal(bastion.inputs.createVnicDetails.assignPublicIp, "true");
    assert.equal(bastion.inputs.createVnicDetails.subnetId, "public-subnet-id");
  });

  it("puts the servers in a private subnet routed through the NAT gateway", () => {
    const nat = named(r, "oci:Core/natGateway:NatGateway", "nat-gateway");
    const routes = named(r, "oci:Core/routeTable:RouteTable", "private-routes");
    assert.equal(routes.inputs.routeRules[0].networkEntityId, `${nat.name}-id`);
    const subnet = named(r, "oci:Core/subnet:Subnet", "private-subnet");
    assert.equal(subnet.inputs.prohibitPublicIpOnVnic, true);
    assert.equal(subnet.inputs.routeTableId, "private-routes-id");
    for (const n of ["server-1", "server-2", "etcd-1"]) {
      const vnic = named(r, INSTANCE, n).inputs.createVnicDetails;
      assert.equal(vnic.subnetId, "private-subnet-id");
      assert.equal(vnic.assignPublicIp, "false");
    }
  });

  it("lets SSH reach private nodes only from admin CIDRs and through the jump host", () => {
    assertNoAdminPortFromWorld(r);
    const ssh = ofType(r, RULE).filter((x) => x.inputs.direction === "INGRESS" && opensPort(x, 22));
    assert.deepEqual(ssh.map((x) => x.inputs.source).sort(), ["198.51.100.0/28", "203.0.113.10/32", "nsg-nodes-id"]);
    const api = ofType(r, RULE).filter(
      (x) => x.inputs.networkSecurityGroupId === "nsg-loadBalancer-id" && opensPort(x, 6443) && x.inputs.direction === "INGRESS",
    );
    assert.deepEqual(api.map((x) => x.inputs.source).sort(), ["198.51.100.0/28", "203.0.113.10/32"]);
  });

  it("balances the API over the two servers (not the etcd-only member) and web traffic over the A1 nodes only", () => {
    const sets = Object.fromEntries(ofType(r, BACKEND_SET).map((s) => [s.inputs.name, s.inputs]));
    const names = (set: { backends: { name: string }[] }) => set.backends.map((b) => b.name.replace(/-\d+$/, ""));
    assert.deepEqual(names(sets["kube-api"]), ["server-1", "server-2"]);
    assert.deepEqual(names(sets.http), ["server-1", "server-2"]);
  });

  it("plans at $0: the free A1 allowance exactly, and nothing billed", () => {
    const usage = r.outputs.freeTierUsage as { resource: string; used: number; excess: number; monthlyCostUsd: number }[];
    assert.ok(usage.every((u) => u.excess === 0 && u.monthlyCostUsd === 0));
    assert.equal(usage.find((u) => u.resource === "a1Ocpus")!.used, 2);
    assert.equal(usage.find((u) => u.resource === "a1MemoryGb")!.used, 12);
    assert.equal(usage.find((u) => u.resource === "microInstances")!.used, 2);
    assert.equal(usage.find((u) => u.resource === "natGateways")!.used, 1);
  });
});

describe("program: fixtures", () => {
  it("a minimal stack (compartment, admin CIDR) builds one A1 server with a data volume and a generated key", async () => {
    const r = await run("minimal", MINIMAL_CONFIG);
    assert.deepEqual(
      ofType(r, INSTANCE).map((i) => i.name),
      ["server-1"],
    );
    assert.deepEqual(named(r, INSTANCE, "server-1").inputs.shapeConfig, { ocpus: 2, memoryInGbs: 12 });
    assert.equal(ofType(r, VOLUME).length, 1);
    // The login key, and the node's SSH host key.
    assert.deepEqual(
      ofType(r, "tls:index/privateKey:PrivateKey")
        .map((k) => k.name)
        .sort(),
      ["server-1-host-key", "ssh-key"],
    );
    assert.equal(r.outputs.clusterName, "oci-k8s-minimal");
    assert.equal(r.outputs.clusterDomain, "192.0.2.10.sslip.io");
  });

  it("a given SSH public key is used as is, and no private key is generated or exported", async () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUserSuppliedKeyForTests user@laptop";
    const r = await run("keyed", { ...MINIMAL_CONFIG, sshPublicKey: key });
    // No login key is generated; only the node's SSH host key.
    assert.deepEqual(
      ofType(r, "tls:index/privateKey:PrivateKey").map((k) => k.name),
      ["server-1-host-key"],
    );
    assert.equal(named(r, INSTANCE, "server-1").inputs.metadata.ssh_authorized_keys, key);
    assert.equal("sshPrivateKey" in r.outputs, false);
    assert.deepEqual(r.secretOutputs, ["kubeconfig"]);
    // Without sshPrivateKey the SSH agent holds the key: connections carry none.
    for (const c of ofType(r, "command:remote:Command")) assert.equal(c.inputs.connection.privateKey, undefined);
  });

  it("a pinned image OCID and AD win over the lookup and the spread", async () => {
    const r = await run("pinned", {
      ...MINIMAL_CONFIG,
      nodes: [
        { name: "a", role: "server", imageId: "ocid1.image.oc1.eu-frankfurt-1.pinnedimage", availabilityDomain: 3, ocpus: 1 },
        { name: "b", role: "agent", availabilityDomain: "Uocm:EU-FRANKFURT-1-AD-2", ocpus: 1 },
      ],
    });
    assert.equal(named(r, INSTANCE, "a").inputs.sourceDetails.sourceId, "ocid1.image.oc1.eu-frankfurt-1.pinnedimage");
    assert.equal(named(r, INSTANCE, "a").inputs.availabilityDomain, "Uocm:EU-FRANKFURT-1-AD-3");
    assert.equal(named(r, INSTANCE, "b").inputs.availabilityDomain, "Uocm:EU-FRANKFURT-1-AD-2");
    assert.equal(named(r, INSTANCE, "b").inputs.sourceDetails.sourceId, "ocid1.image.oc1.eu-frankfurt-1.arm-new");
    // A pinned value is enforced: changing it is a deliberate replacement.
    assert.deepEqual(named(r, INSTANCE, "a").ignoreChanges, ["metadata.user_data"]);
    assert.deepEqual(named(r, INSTANCE, "b").ignoreChanges.sort(), ["metadata.user_data", "sourceDetails.sourceId"]);
  });

  it("restricts the spread to the configured ADs", async () => {
    const r = await run("spread", {
      ...MINIMAL_CONFIG,
      availabilityDomains: [2],
      nodes: [
        { name: "a", role: "server", ocpus: 1 },
        { name: "b", role: "agent", ocpus: 1 },
      ],
    });
    for (const n of ["a", "b"]) assert.equal(named(r, INSTANCE, n).inputs.availabilityDomain, "Uocm:EU-FRANKFURT-1-AD-2");
  });

  it("an AD number the region lacks fails with the node's name and the region's ADs", async () => {
    const r = await runProgram(
      "one-ad",
      { ...MINIMAL_CONFIG, nodes: [{ name: "a", role: "server", availabilityDomain: 2 }] },
      {
        availabilityDomains: ["Uocm:EU-AMSTERDAM-1-AD-1"],
      },
    );
    assert.ok(r.error);
    assert.match(r.error!.message, /node a: availabilityDomain asks for availability domain 2, but this region has 1/);
  });

  it("a region without a matching image fails with advice to pin imageId", async () => {
    const r = await runProgram("no-image", MINIMAL_CONFIG, { images: [] });
    assert.match(String(r.error?.message), /No Canonical Ubuntu 24\.04 arm64 image for VM\.Standard\.A1\.Flex.*set imageId/);
  });

  for (const [distribution, extra] of [
    // kubeadm nodes reach the control-plane endpoint on the load balancer's private address.
    ["kubeadm", ["nsg-loadBalancer-id 6 6443-6443 from nsg-nodes-id"]],
    ["rke2", ["nsg-servers-id 6 9345-9345 from nsg-nodes-id"]],
  ] as const) {
    it(`opens ${distribution}'s node ports`, async () => {
      const r = await run(distribution, { ...MINIMAL_CONFIG, distribution });
      const between = nodeToNodeRules(r);
      assert.deepEqual(
        between,
        [
          "nsg-nodes-id 17 8472-8472 from nsg-nodes-id",
          "nsg-nodes-id 6 10250-10250 from nsg-nodes-id",
          "nsg-nodes-id 6 9100-9100 from nsg-nodes-id",
          "nsg-servers-id 6 2379-2380 from nsg-servers-id",
          "nsg-servers-id 6 6443-6443 from nsg-loadBalancer-id",
          "nsg-servers-id 6 6443-6443 from nsg-nodes-id",
          ...extra,
        ].sort(),
      );
    });
  }

  it("a PAYG stack over the allowance with acceptCharges builds, warning with the table", async () => {
    const r = await run("charged", {
      ...MINIMAL_CONFIG,
      tier: "payg",
      acceptCharges: true,
      nodes: [{ name: "big", role: "server", ocpus: 8, memoryGb: 48 }],
    });
    assert.equal(ofType(r, INSTANCE).length, 1);
    const usage = r.outputs.freeTierUsage as { resource: string; excess: number; monthlyCostUsd: number }[];
    assert.equal(usage.find((u) => u.resource === "a1Ocpus")!.excess, 6);
    // (8 x 744 - 1,500) OCPU-hours at $0.01
    assert.equal(usage.find((u) => u.resource === "a1Ocpus")!.monthlyCostUsd, 44.52);
  });

  it("world admin access is possible only with the explicit opt-in", async () => {
    const r = await run("open", { ...MINIMAL_CONFIG, adminCidrs: ["0.0.0.0/0"], allowWorldAdminAccess: true });
    const ssh = ofType(r, RULE).filter((x) => opensPort(x, 22) && x.inputs.direction === "INGRESS");
    assert.deepEqual(
      ssh.map((x) => x.inputs.source),
      ["0.0.0.0/0"],
    );
  });
});
