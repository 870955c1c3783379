/** The whole program under the mock runtime: the resource graph of each stack file and of fixtures. */
import { strict as assert } from "assert";
import { MINIMAL_CONFIG, named, ofType, RunResult, runProgram, stackConfig } from "../../scripts/mock-program";
import {
  INSTANCE,
  VOLUME,
  RULE,
  BACKEND_SET,
  run,
  opensPort,
  nodeToNodeRules,
  assertNoAdminPortFromWorld,
} from "./program.fixtures";

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
    assert.deepEqual(r.secretOutputs.sort(), ["argoCdAdminPassword", "grafanaAdminPassword", "kubeconfig"]);
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
      budgetAmount: 50,
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
