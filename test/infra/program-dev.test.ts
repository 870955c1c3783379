/** The whole program under the mock runtime: the resource graph of each stack file and of fixtures. */
import { strict as assert } from "assert";
import { HOST_READY_MARKER } from "../../infra/cloud-init";
import { DATA_DEVICE } from "../../infra/cloud-init";
import { named, ofType, RunResult, stackConfig } from "../../scripts/mock-program";
import {
  INSTANCE,
  VOLUME,
  ATTACHMENT,
  RULE,
  NLB,
  BACKEND_SET,
  LISTENER,
  run,
  userData,
  opensPort,
  nodeToNodeRules,
  worldIngress,
  assertNoAdminPortFromWorld,
} from "./program.fixtures";

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

  it("exports the outputs contract, with the kubeconfig, the generated SSH private key and the UIs' admin passwords as the only secrets", () => {
    assert.deepEqual(r.secretOutputs.sort(), ["argoCdAdminPassword", "grafanaAdminPassword", "kubeconfig", "sshPrivateKey"]);
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
