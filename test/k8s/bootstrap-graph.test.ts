/** The cluster bootstrap under the mock runtime: the command graph, settings and secrets, per distribution and topology. */
import { strict as assert } from "assert";
import { parse, parseAllDocuments } from "yaml";
import { RKE2 } from "../../k8s/bootstrap/distributions";
import { reservations } from "../../k8s/bootstrap/reserved";
import { MINIMAL_CONFIG, MOCK_JOIN, MOCK_TOKEN, named, RunResult, runOk } from "../../scripts/mock-program";
import {
  INSTANCE,
  oneServer,
  threeServers,
  freeHa,
  run,
  cmd,
  settingsOf,
  ipOf,
  dependsOn,
  reaches,
  completes,
  assertNoSecretInPlainText,
} from "./bootstrap.fixtures";

for (const distribution of ["k3s", "rke2", "kubeadm"] as const) {
  for (const [topology, nodes] of [
    ["1 server", oneServer],
    ["3 servers", threeServers],
  ] as const) {
    describe(`bootstrap: ${distribution}, ${topology}`, () => {
      let r: RunResult;
      const servers = nodes.filter((n) => n.role === "server").map((n) => n.name);
      const agents = nodes.filter((n) => n.role === "agent").map((n) => n.name);
      before(async () => {
        r = await run(distribution, [...nodes]);
      });

      it("waits for each host's preparation marker once the host (and its volumes) exist", () => {
        for (const n of nodes) {
          const wait = cmd(r, `${n.name}-wait`);
          assert.match(wait.inputs.create, /^sudo bash -c .* wait-host \/var\/lib\/oci-k8s\/host-ready$/s);
          assert.deepEqual(wait.inputs.triggers, [`${n.name}-id`]);
          // Depending on the node component means depending on its instance (and volume attachment).
          assert.ok(wait.dependencies.includes(named(r, INSTANCE, n.name).urn), `${n.name}-wait does not wait for the instance`);
          assert.equal(wait.inputs.connection.dialErrorLimit, 60, "a booting node is retried");
          assert.ok(dependsOn(cmd(r, `${n.name}-install`), wait));
        }
      });

      it("joins servers one at a time after the first, and every agent in parallel after the first", () => {
        const firstReady = cmd(r, `${servers[0]}-uncordon`);
        for (let i = 1; i < servers.length; i++) {
          assert.ok(
            reaches(r, cmd(r, `${servers[i]}-install`), cmd(r, `${servers[i - 1]}-uncordon`)),
            `${servers[i]} does not wait for ${servers[i - 1]} to be Ready`,
          );
        }
        for (const a of agents) {
          const install = cmd(r, `${a}-install`);
          assert.ok(reaches(r, install, firstReady));
          const others = [...servers.slice(1), ...agents.filter((x) => x !== a)].map((x) => cmd(r, `${x}-install`));
          for (const o of others) assert.ok(!reaches(r, install, o), `${a} waits for ${o.name}: joins are serialized`);
        }
      });

      it("puts every install between a drain and an uncordon run on the first server", () => {
        const firstServer = cmd(r, `${servers[0]}-install`).inputs.connection.host;
        for (const n of nodes) {
          const drain = cmd(r, `${n.name}-drain`);
          const uncordon = cmd(r, `${n.name}-uncordon`);
          assert.ok(dependsOn(cmd(r, `${n.name}-install`), drain));
          assert.ok(dependsOn(uncordon, cmd(r, `${n.name}-install`)));
          assert.ok(dependsOn(cmd(r, "cluster-ready"), uncordon));
          // The drain takes nothing of the node's machine, which may wait for it (a resize).
          assert.equal(drain.inputs.triggers, undefined);
          assert.deepEqual(uncordon.inputs.triggers, [`${n.name}-id`]);
          for (const c of [drain, uncordon]) {
            assert.equal(c.inputs.connection.host, firstServer);
            const settings = settingsOf(c);
            assert.equal(settings.NODE_NAME, n.name);
            assert.match(settings.MACHINE, /^VM\.Standard\.(A1\.Flex \d+ OCPU \d+ GB|E2\.1\.Micro 0\.125 OCPU 1 GB)$/);
            assert.equal(settings.VERSION, settingsOf(cmd(r, `${servers[0]}-install`)).VERSION);
          }
          assert.match(drain.inputs.create, / rollout drain$/);
          assert.match(uncordon.inputs.create, / rollout uncordon$/);
        }
      });

      it("sends settings (with the token) on stdin as a secret, never on the command line", () => {
        for (const n of nodes) {
          const install = cmd(r, `${n.name}-install`);
          assert.ok(install.secretInputs.includes("stdin"), `${n.name}-install stdin is not secret`);
          assert.ok(!install.inputs.create.includes(MOCK_TOKEN));
        }
        assertNoSecretInPlainText(r);
      });

      it("reads the kubeconfig without logging it, keeps it secret, and points it at the load balancer", () => {
        const kc = cmd(r, "cluster-kubeconfig");
        assert.equal(kc.inputs.logging, "none");
        assert.ok(kc.additionalSecretOutputs.includes("stdout"));
        assert.ok(dependsOn(kc, cmd(r, `${servers[0]}-install`)));
        assert.ok(r.secretOutputs.includes("kubeconfig"));
        const doc = parse(r.outputs.kubeconfig as string);
        assert.equal(doc.clusters[0].cluster.server, "https://192.0.2.10:6443");
        assert.equal(doc["current-context"], "oci-k8s-boot");
      });

      it("builds the Kubernetes provider from the kubeconfig, with a stable identity, after every node is Ready", () => {
        const provider = named(r, "pulumi:providers:kubernetes", "cluster-provider");
        assert.equal(provider.inputs.clusterIdentifier, "oci-k8s-boot");
        assert.ok(provider.secretInputs.includes("kubeconfig"));
        const ready = cmd(r, "cluster-ready");
        assert.ok(dependsOn(provider, ready));
        for (const n of nodes) assert.ok(dependsOn(ready, cmd(r, `${n.name}-labels`)), `ready does not wait for ${n.name}`);
        assert.deepEqual(
          settingsOf(ready).NODES.split("\n"),
          nodes.map((n) => n.name),
        );
      });

      it("labels and taints each node from the first server, the micro node tainted", () => {
        for (const n of nodes) {
          const labels = cmd(r, `${n.name}-labels`);
          assert.equal(labels.inputs.connection.host, cmd(r, `${servers[0]}-install`).inputs.connection.host);
          assert.ok(dependsOn(labels, cmd(r, `${n.name}-install`)));
          const s = settingsOf(labels);
          assert.equal(s.NODE_NAME, n.name);
          assert.match(s.LABELS, new RegExp(`^oci-k8s.io/role=${n.role}$`, "m"));
          assert.equal(s.TAINTS, n.name.startsWith("micro") ? "oci-k8s.io/micro=true:NoSchedule" : "");
        }
      });

      it("drains, deletes and uninstalls a node that leaves the stack, in that order, never the first server", () => {
        assert.throws(() => cmd(r, `${servers[0]}-retire`));
        for (const n of nodes.slice(1)) {
          const retire = cmd(r, `${n.name}-retire`);
          const uninstall = cmd(r, `${n.name}-uninstall`);
          assert.match(
            retire.inputs.delete,
            new RegExp(` remove-node ${n.name} ${ipOf(r, n.name).replace(/\./g, "\\.")} ${n.role} ${distribution} `),
          );
          assert.match(uninstall.inputs.delete, new RegExp(` uninstall ${distribution}$`));
          // Deleting runs dependents first: retire (drain) depends on uninstall, so it runs before it.
          assert.ok(dependsOn(retire, uninstall));
          // The delete's loader and the script on its stdin (kept in the state for the delete) are never diffed.
          for (const guard of [retire, uninstall])
            assert.deepEqual(guard.ignoreChanges.sort(), ["connection", "delete", "stdin"]);
          // A replaced machine is retired and uninstalled before its replacement installs: created
          // first, the old deletes would run at the end of the update and remove the new node.
          for (const guard of [retire, uninstall])
            assert.equal(guard.deleteBeforeReplace, true, `${guard.name}: delete before replace`);
          // Issue 20.16: registered before the install (which waits for it), so a failed first
          // install still has its uninstall in the state and destroy removes the token's config.
          const install = cmd(r, `${n.name}-install`);
          assert.ok(dependsOn(install, uninstall), `${n.name}: the install does not wait for its uninstall`);
          assert.ok(!reaches(r, uninstall, install), `${n.name}: the uninstall waits for the install`);
        }
      });

      if (distribution === "kubeadm") {
        it("creates short-lived join material on the first server for each joining node, unlogged and secret", () => {
          for (const n of nodes.slice(1)) {
            const material = cmd(r, `${n.name}-join-material`);
            assert.match(material.inputs.create, new RegExp(` join-material ${n.role}$`));
            assert.equal(material.inputs.logging, "none");
            assert.ok(material.additionalSecretOutputs.includes("stdout"));
            assert.ok(dependsOn(cmd(r, `${n.name}-install`), material), `${n.name}-install does not use its join material`);
            const join = parseAllDocuments(settingsOf(cmd(r, `${n.name}-install`)).CONFIG).map((d) => d.toJSON());
            assert.equal(join[0].kind, "JoinConfiguration");
            assert.equal(join[0].discovery.bootstrapToken.token, MOCK_JOIN.JOIN_TOKEN);
            // Servers discover at the first server; agents at the load balancer's private address they wait for.
            const discovery = n.role === "agent" ? "10.0.0.254" : ipOf(r, servers[0]);
            assert.equal(join[0].discovery.bootstrapToken.apiServerEndpoint, `${discovery}:6443`);
            assert.equal(join[0].controlPlane?.certificateKey, n.role === "server" ? MOCK_JOIN.CERTIFICATE_KEY : undefined);
            // Right after the join the token and uploaded certificates are deleted on the first server.
            const revoke = cmd(r, `${n.name}-revoke-join`);
            assert.match(revoke.inputs.create, / kubeadm revoke$/);
            assert.ok(dependsOn(revoke, cmd(r, `${n.name}-install`)));
            assert.ok(revoke.secretInputs.includes("stdin"));
            assert.equal(settingsOf(revoke).JOIN_TOKEN, MOCK_JOIN.JOIN_TOKEN);
          }
        });

        it("initialises the first server with the SANs, networks, DNS upstream and the pinned CNI", () => {
          const s = settingsOf(cmd(r, `${servers[0]}-install`));
          assert.match(cmd(r, `${servers[0]}-install`).inputs.create, / kubeadm init$/);
          const [init, cluster, kubelet] = parseAllDocuments(s.CONFIG).map((d) => d.toJSON());
          assert.equal(init.kind, "InitConfiguration");
          assert.deepEqual(init.nodeRegistration.taints, [], "servers run workloads: no control-plane taint");
          assert.equal(cluster.kubernetesVersion, "v1.34.4");
          assert.ok(cluster.apiServer.certSANs.includes("192.0.2.10"));
          // The first server's own address; a joining server's apiserver certificate adds its own
          // advertise address (kubeadm), and no server's settings wait for another's instance.
          assert.ok(cluster.apiServer.certSANs.includes(ipOf(r, servers[0])));
          for (const srv of servers.slice(1)) assert.ok(!cluster.apiServer.certSANs.includes(ipOf(r, srv)), srv);
          assert.deepEqual(cluster.networking, { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12" });
          assert.equal(kubelet.resolvConf, "/run/systemd/resolve/resolv.conf");
          assert.match(s.CNI_MANIFEST, /flannel-io\/flannel\/releases\/download\/v\d+\.\d+\.\d+\/kube-flannel\.yml$/);
        });
      } else {
        it(`configures ${distribution}: token, join address, SANs, bundled add-ons off, reservations, upstream DNS`, () => {
          const joinPort = distribution === "rke2" ? 9345 : 6443;
          for (const n of nodes) {
            const install = cmd(r, `${n.name}-install`);
            assert.match(install.inputs.create, new RegExp(` rancher ${distribution} ${n.role}$`));
            const s = settingsOf(install);
            assert.equal(s.VERSION, distribution === "k3s" ? "v1.34.9+k3s1" : "v1.34.9+rke2r1");
            const config = parse(s.CONFIG);
            assert.equal(config.token, MOCK_TOKEN);
            assert.equal(config["node-name"], n.name);
            assert.equal(config["node-ip"], ipOf(r, n.name));
            assert.ok(config["kubelet-arg"].includes("resolv-conf=/run/systemd/resolve/resolv.conf"));
            assert.ok(config["kubelet-arg"].some((a: string) => a.startsWith("system-reserved=")));
            if (n.name === servers[0]) {
              assert.equal(config["cluster-init"], true);
              assert.equal(config.server, undefined);
            } else {
              assert.equal(config.server, `https://${ipOf(r, servers[0])}:${joinPort}`);
              assert.equal(config["cluster-init"], undefined);
            }
            if (n.role === "server") {
              assert.ok(config["tls-san"].includes("192.0.2.10"));
              // Each server's certificate covers itself, never another server (whose instance
              // may wait for this server's turn in a rollout).
              for (const srv of servers)
                assert.equal(config["tls-san"].includes(ipOf(r, srv)), srv === n.name, `${srv} in ${n.name}'s SANs`);
              for (const agent of agents) assert.ok(!config["tls-san"].includes(ipOf(r, agent)), `${agent} serves no API`);
              assert.equal(config["write-kubeconfig-mode"], "0600");
              const off: string[] =
                distribution === "k3s"
                  ? ["traefik", "servicelb", "local-storage", "metrics-server"]
                  : ["rke2-ingress-nginx", "rke2-metrics-server"];
              assert.deepEqual(config.disable, off);
            }
            assert.deepEqual(config["node-taint"], n.name.startsWith("micro") ? ["oci-k8s.io/micro=true:NoSchedule"] : undefined);
          }
        });
      }
    });
  }
}

describe("bootstrap: kubeadm's control-plane endpoint survives any one server", () => {
  const ha = [
    { name: "server-1", role: "server", ocpus: 1, memoryGb: 6 },
    { name: "server-2", role: "server", ocpus: 1, memoryGb: 6 },
    { name: "server-3", role: "server", ocpus: 1, memoryGb: 6 },
    { name: "agent-1", role: "agent", ocpus: 1, memoryGb: 6 },
  ];
  it("is a name each node pins: servers to themselves, agents to the load balancer's private address", async () => {
    const r = await runOk("boot", {
      ...MINIMAL_CONFIG,
      tier: "payg",
      acceptCharges: true,
      budgetAmount: 50,
      distribution: "kubeadm",
      nodes: ha,
    });
    const name = "kube-api.oci-k8s-boot.internal";
    const init = parseAllDocuments(settingsOf(cmd(r, "server-1-install")).CONFIG).map((d) => d.toJSON());
    assert.equal(init[1].controlPlaneEndpoint, `${name}:6443`);
    assert.ok(!init[1].controlPlaneEndpoint.includes(ipOf(r, "server-1")), "kubelets would follow server 1");
    assert.ok(init[1].apiServer.certSANs.includes(name));
    const pinned = (n: string) => settingsOf(cmd(r, `${n}-install`));
    assert.deepEqual([pinned("server-1").API_NAME, pinned("server-1").API_ADDRESS], [name, ipOf(r, "server-1")]);
    // A joining server is pointed at the first server while it joins, at itself once it serves.
    assert.equal(pinned("server-2").API_ADDRESS, ipOf(r, "server-1"));
    assert.equal(pinned("server-2").API_ADDRESS_JOINED, ipOf(r, "server-2"));
    // Agents reach whichever server answers, through the load balancer's private address.
    assert.equal(pinned("agent-1").API_ADDRESS, "10.0.0.254");
    assert.equal(pinned("agent-1").API_ADDRESS_JOINED, undefined);
    const join = parse(pinned("agent-1").CONFIG);
    assert.equal(join.discovery.bootstrapToken.apiServerEndpoint, "10.0.0.254:6443");
    // Agents wait for the API listener; no server's install does (so a resize has no cycle).
    const listener = r.resources.find((x) => x.name === "kube-api-listener")!;
    assert.ok(dependsOn(cmd(r, "agent-1-install"), listener));
    for (const server of ["server-1", "server-2", "server-3"])
      assert.ok(!reaches(r, cmd(r, `${server}-install`), listener), server);
  });

  it("resizing the third server of a kubeadm HA cluster completes", async () => {
    const resized = ha.map((n) => (n.name === "server-3" ? { ...n, memoryGb: 5 } : n));
    const previous = {
      stackOutputs: {
        "organization/oci-k8s/boot": {
          distribution: "kubeadm",
          distributionVersion: "v1.34.4",
          nodes: ha.map((n) => ({ ...n, shape: "VM.Standard.A1.Flex" })),
        },
      },
    };
    const r = await completes(
      runOk(
        "boot",
        { ...MINIMAL_CONFIG, tier: "payg", acceptCharges: true, budgetAmount: 50, distribution: "kubeadm", nodes: resized },
        previous,
      ),
    );
    assert.ok(dependsOn(named(r, INSTANCE, "server-3"), cmd(r, "server-3-drain")));
  });
});

describe("bootstrap: RKE2's bundled Traefik", () => {
  it("is disabled from v1.36, where RKE2 bundles it, so it never takes 80/443 from the platform's ingress", () => {
    const node = {
      name: "s",
      role: "server",
      first: true,
      privateIp: "10.0.0.2",
      addresses: ["10.0.0.2"],
      memoryGb: 6,
      taints: [],
      resolvConf: "/run/systemd/resolve/resolv.conf",
    } as const;
    const cluster = (version: string) => ({ clusterName: "c", version, firstServerIp: "10.0.0.2", tlsSans: [], token: "t" });
    const disabled = (version: string) => parse(RKE2.installSettings(node, cluster(version)).CONFIG).disable as string[];
    assert.ok(!disabled("v1.35.4+rke2r1").includes("rke2-traefik"));
    assert.ok(disabled("v1.36.0+rke2r1").includes("rke2-traefik"));
    assert.ok(disabled("v1.37.1+rke2r1").includes("rke2-ingress-nginx"));
  });
});

describe("bootstrap: an HA control plane at $0 (two A1 servers and an etcd-only micro)", () => {
  // RKE2 cannot: its etcd is a static pod that a 1 GB micro cannot hold (test/k8s/etcd-member-memory.test.ts).
  for (const distribution of ["k3s"]) {
    it(`${distribution}: the third etcd member joins in the servers' turn, with no API, scheduler, controller manager or pods`, async () => {
      const r = await runOk("boot", { ...MINIMAL_CONFIG, distribution, nodes: freeHa });
      const usage = r.outputs.freeTierUsage as { excess: number }[];
      assert.ok(
        usage.every((u) => u.excess === 0),
        "the HA shape is not free",
      );
      const etcd = cmd(r, "etcd-1-install");
      assert.match(etcd.inputs.create, new RegExp(` rancher ${distribution} etcd$`));
      const config = parse(settingsOf(etcd).CONFIG);
      assert.equal(config["disable-apiserver"], true);
      assert.equal(config["disable-controller-manager"], true);
      assert.equal(config["disable-scheduler"], true);
      assert.equal(config["tls-san"], undefined);
      assert.equal(config.server, `https://${ipOf(r, "server-1")}:${distribution === "k3s" ? 6443 : 9345}`);
      assert.ok(config["node-taint"].includes("node-role.kubernetes.io/etcd=true:NoExecute"));
      assert.equal(settingsOf(etcd).KUBECTL, undefined);
      // etcd members one at a time: server-2, then etcd-1; the agent after the first server.
      assert.ok(dependsOn(cmd(r, "etcd-1-drain"), cmd(r, "server-2-uncordon")));
      assert.ok(reaches(r, cmd(r, "server-2-install"), cmd(r, "server-1-uncordon")));
      // Reservations leave the member's memory to etcd and the distribution.
      const kubelet: string[] = config["kubelet-arg"];
      assert.ok(kubelet.includes(`kube-reserved=${reservations(1, "etcd").kubeReserved}`), kubelet.join(" "));
      assert.equal(reservations(1, "etcd").allocatableMiB, 64);
      // Its removal guard removes an etcd member, like a server's.
      assert.match(cmd(r, "etcd-1-retire").inputs.delete, / etcd-1 \S+ etcd /);
    });
  }
});

describe("bootstrap: kubelet reservations", () => {
  it("keep headroom on a 1 GB micro and a 12 GB A1 node, as README states", () => {
    assert.equal(reservations(1).allocatableMiB, 1024 - 356);
    assert.equal(reservations(12).allocatableMiB, 12 * 1024 - 1324);
    assert.equal(reservations(1).systemReserved, "cpu=100m,memory=128Mi");
    assert.match(reservations(6).evictionHard, /^memory\.available<200Mi,/);
  });
});
