/**
 * A replaced kubeadm first server rejoins the cluster it founded instead of running `kubeadm
 * init` (a second cluster beside the first, its nodes split). Another server, which holds the
 * cluster's admin kubeconfig, makes the material only when the first server is no working member
 * (its Node not Ready, its etcd member gone or not answering), removes the dead etcd member first
 * (kubeadm join checks etcd's health before it adds a member: kubeadm
 * cmd/kubeadm/app/phases/etcd/local.go, CreateStackedEtcdStaticPodManifestFile, CheckClusterHealth),
 * and the first server joins as a control-plane node with it: `kubeadm token create
 * --print-join-command` and `kubeadm init phase upload-certs --upload-certs` (kubeadm docs,
 * "Creating Highly Available Clusters with kubeadm": a certificate key for `--control-plane`
 * joins, the uploaded certificates deleted after two hours), JoinConfiguration v1beta4
 * controlPlane.certificateKey. The same for k3s and RKE2 is in joins.test.ts (REJOIN_URLS).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ClusterFacts, NodeFacts } from "../../k8s/bootstrap/distribution";
import { KUBEADM } from "../../k8s/bootstrap/kubeadm";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { MINIMAL_CONFIG, MOCK_JOIN, named, ofType, ROOT, runOk, stackConfigFrom } from "../../scripts/mock-program";
import { fakeBin } from "../tools";
import { kubeadmSandbox, Sandbox } from "./bootstrap-scripts.fixtures";
import { assertNoSecretInPlainText, completes, dependsOn, INSTANCE, threeServers } from "./bootstrap.fixtures";

const COMMAND = "command:remote:Command";
const onpremHa = () => stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.onprem-ha.yaml"));

describe("kubeadm: a replaced first server rejoins (graph)", function () {
  this.timeout(120_000);

  it("another server is asked for rejoin material whenever the first server's machine changes, unlogged and secret", async () => {
    const r = await runOk("rejoin", onpremHa());
    const made = named(r, COMMAND, "cp-1-rejoin-material");
    assert.match(made.inputs.create, / kubeadm rejoin-material$/);
    assert.equal(made.inputs.connection.host, named(r, COMMAND, "cp-2-install").inputs.connection.host, "made on cp-2");
    assert.deepEqual(made.inputs.triggers, named(r, COMMAND, "cp-1-install").inputs.triggers, "runs when cp-1's machine changes");
    assert.equal(made.inputs.logging, "none");
    assert.ok(made.additionalSecretOutputs.includes("stdout"));
    assert.equal(decodeSettings(made.inputs.stdin).FIRST_NAME, "cp-1");
    assert.ok(named(r, COMMAND, "cp-1-install").dependencies.includes(made.urn), "the first install waits for it");
    // Nothing to rejoin (a first install): the first server inits.
    const settings = decodeSettings(named(r, COMMAND, "cp-1-install").inputs.stdin);
    assert.equal(settings.REJOIN_CONFIG, undefined);
    assert.match(settings.CONFIG, /kind: InitConfiguration/);
  });

  it("replaced: the first server gets a control-plane JoinConfiguration through the VIP, and the material is revoked on cp-2 after", async () => {
    const r = await runOk("rejoin", onpremHa(), { firstServerReplaced: true });
    const install = named(r, COMMAND, "cp-1-install");
    assert.match(install.inputs.create, / kubeadm init$/, "the script decides: it joins because REJOIN_CONFIG is set");
    const settings = decodeSettings(install.inputs.stdin);
    const join = parse(settings.REJOIN_CONFIG);
    assert.equal(join.kind, "JoinConfiguration");
    assert.equal(join.discovery.bootstrapToken.apiServerEndpoint, "10.10.0.10:6443");
    assert.equal(join.discovery.bootstrapToken.token, MOCK_JOIN.JOIN_TOKEN);
    assert.equal(join.controlPlane.certificateKey, MOCK_JOIN.CERTIFICATE_KEY);
    assert.equal(join.nodeRegistration.name, "cp-1");
    assert.equal(settings.REJOIN_API_ADDRESS, "10.10.0.12");
    const revoke = named(r, COMMAND, "cp-1-revoke-rejoin");
    assert.match(revoke.inputs.create, / kubeadm revoke-rejoin$/);
    assert.equal(revoke.inputs.connection.host, named(r, COMMAND, "cp-2-install").inputs.connection.host);
    assert.equal(decodeSettings(revoke.inputs.stdin).JOIN_TOKEN, MOCK_JOIN.JOIN_TOKEN);
    assert.ok(revoke.dependencies.includes(install.urn));
    // The token and certificate key appear in no value that is not secret.
    assertNoSecretInPlainText(r);
  });

  it("Oracle Cloud, the second server resized in place: the material comes from a server that is not (no cycle through its drain)", async () => {
    // A resized instance waits for its drain, which waits for the first server's turn: the
    // first server's install must not wait for that instance.
    const nodes = threeServers.map((n) => (n.name === "server-2" ? { ...n, memoryGb: 6 } : n));
    const world = {
      stackOutputs: {
        "organization/oci-k8s/boot": {
          distribution: "kubeadm",
          distributionVersion: "v1.34.4",
          nodes: threeServers.map((n) => ({
            name: n.name,
            role: n.role,
            shape: n.shape ?? "VM.Standard.A1.Flex",
            ocpus: n.shape ? 0.125 : n.ocpus,
            memoryGb: n.shape ? 1 : n.memoryGb,
          })),
        },
      },
    };
    const config = { ...MINIMAL_CONFIG, tier: "payg", acceptCharges: true, budgetAmount: 50, distribution: "kubeadm", nodes };
    const r = await completes(runOk("boot", config, world));
    assert.ok(dependsOn(named(r, INSTANCE, "server-2"), named(r, COMMAND, "server-2-drain")), "server-2 is resized");
    const made = named(r, COMMAND, "server-1-rejoin-material");
    assert.equal(made.inputs.connection.host, named(r, COMMAND, "server-3-install").inputs.connection.host, "made on server-3");
    // Both other servers resized: no server to ask in this update, and still no cycle.
    const both = threeServers.map((n) => (n.name !== "server-1" && n.role === "server" ? { ...n, memoryGb: 6 } : n));
    const r2 = await completes(runOk("boot", { ...config, nodes: both }, world));
    assert.equal(r2.resources.filter((x) => x.name === "server-1-rejoin-material").length, 0);
  });

  it("k3s and RKE2 rejoin with their token: no rejoin material", async () => {
    const r = await runOk("rejoin", { ...onpremHa(), "oci-k8s:distribution": "k3s" });
    assert.equal(ofType(r, COMMAND).filter((c) => /rejoin/.test(c.name)).length, 0);
  });
});

describe("kubeadm.sh: a replaced first server rejoins (scripts)", function () {
  this.timeout(60_000);

  const KEY = "f".repeat(64);
  /** kubeadm on a live server: prints a join command and a certificate key. */
  const liveKubeadm = () => `case "$*" in
  "token create --ttl 15m --print-join-command") echo "kubeadm join 10.10.0.12:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:${"1".repeat(64)}" ;;
  "init phase upload-certs --upload-certs") echo "[upload-certs] Using certificate key:"; echo "${KEY}" ;;
esac`;
  /** A live server: its admin kubeconfig, and kubectl answering from FAKE_* (cp-1's Ready status, the etcd members, their health). */
  function liveServer(): Sandbox {
    const s = kubeadmSandbox(liveKubeadm);
    fs.mkdirSync(path.join(s.root, "etc/kubernetes"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/kubernetes/admin.conf"), "admin");
    fakeBin(
      s.bin,
      "kubectl",
      `case "$*" in
  *"get --raw=/readyz"*) exit 0 ;;
  *" get node cp-1 "*) [[ -n "\${FAKE_READY:-}" ]] || { echo 'Error from server (NotFound): nodes "cp-1" not found' >&2; exit 1; }; printf '%s' "$FAKE_READY" ;;
  *" get pods "*) printf etcd-cp-2 ;;
  *"member list"*) printf '%s\\n' "\${FAKE_MEMBERS:-}" ;;
  *"endpoint health"*) [[ -n "\${FAKE_ETCD_HEALTHY:-}" ]] ;;
esac`,
    );
    return s;
  }
  const MEMBERS = [
    "8e9e05c52164694d, started, cp-1, https://10.10.0.11:2380, https://10.10.0.11:2379, false",
    "91bc3c398fb3c146, started, cp-2, https://10.10.0.12:2380, https://10.10.0.12:2379, false",
  ].join("\n");
  const rejoin = (s: Sandbox, env: Record<string, string>) => s.run("kubeadm", ["rejoin-material"], { FIRST_NAME: "cp-1" }, env);
  const mutations = (s: Sandbox) => s.calls().filter((c) => /member remove|delete node|token create|upload-certs/.test(c));

  it("prints nothing where no cluster runs (the first install: cp-2 has not joined yet)", () => {
    const s = kubeadmSandbox(liveKubeadm);
    const r = rejoin(s, {});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /no control plane answers on this server: cp-1 founds the cluster/);
  });

  it("prints nothing and changes nothing while the first server is a working member (Ready, or its etcd answering)", () => {
    const working: Record<string, string>[] = [
      { FAKE_READY: "True", FAKE_MEMBERS: MEMBERS },
      { FAKE_READY: "Unknown", FAKE_MEMBERS: MEMBERS, FAKE_ETCD_HEALTHY: "1" },
    ];
    for (const env of working) {
      const s = liveServer();
      const r = rejoin(s, env);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "", JSON.stringify(env));
      assert.deepEqual(mutations(s), [], JSON.stringify(env));
    }
  });

  it("replaced: removes the dead etcd member and Node, then prints server join material", () => {
    const s = liveServer();
    const r = rejoin(s, { FAKE_READY: "Unknown", FAKE_MEMBERS: MEMBERS });
    assert.equal(r.status, 0, r.stderr);
    const material = decodeSettings(r.stdout);
    assert.equal(material.JOIN_TOKEN, "abcdef.0123456789abcdef");
    assert.equal(material.CA_CERT_HASH, `sha256:${"1".repeat(64)}`);
    assert.equal(material.CERTIFICATE_KEY, KEY);
    const done = mutations(s);
    assert.match(done[0], /exec etcd-cp-2 -- etcdctl .* member remove 8e9e05c52164694d$/, done.join("\n"));
    assert.match(done[1], /delete node cp-1 --ignore-not-found --wait=false$/);
    assert.match(r.stderr, /the dead etcd member 8e9e05c52164694d of cp-1 \(https:\/\/10\.10\.0\.11:2379\) removed/);
    // The health check went to the dead member's own client URL.
    assert.ok(s.calls().some((c) => c.includes("--endpoints=https://10.10.0.11:2379") && c.includes("endpoint health")));
    assert.doesNotMatch(r.stderr, new RegExp(KEY), "the certificate key is not logged");
  });

  const node: NodeFacts = {
    name: "cp-1",
    role: "server",
    first: true,
    privateIp: "10.10.0.11",
    addresses: ["10.10.0.11"],
    memoryGb: 8,
    taints: [],
    resolvConf: "/run/systemd/resolve/resolv.conf",
  };
  const cluster: ClusterFacts = {
    clusterName: "c",
    version: "v1.34.9",
    firstServerIp: "10.10.0.11",
    tlsSans: ["10.10.0.10"],
    registrationAddress: "10.10.0.10",
    internalApi: { name: "kube-api.c.internal", address: "10.10.0.10" },
    encryptionKey: Buffer.alloc(32, 2).toString("base64"),
  };
  /** kubeadm on the new first server: records what /etc/hosts pinned at `join` time and writes admin.conf, as a control-plane join does. */
  const newFirst = () =>
    kubeadmSandbox(
      (s) => `if [[ "$1" == join || "$1" == init ]]; then
  grep 'control-plane endpoint' "${s.root}/etc/hosts" > "$FAKE_STATE/pin-at-$1"
  mkdir -p "${s.root}/etc/kubernetes" && echo admin > "${s.root}/etc/kubernetes/admin.conf"
fi`,
    );

  it("the first server's install with rejoin material joins as a control-plane node, never kubeadm init", () => {
    const s = newFirst();
    const material = { ...MOCK_JOIN, via: "10.10.0.12" };
    const settings: Record<string, string> = { ...KUBEADM.installSettings(node, cluster, material), NODE_IP: "127.0.0.1" };
    const r = s.run("kubeadm", ["init"], settings);
    assert.equal(r.status, 0, r.stderr);
    // kubeadm version and kubeadm config images list (containerd's sandbox image) only read.
    const kubeadm = s.calls().filter((c) => c.startsWith("kubeadm ") && !/^kubeadm (version|config images list)/.test(c));
    assert.deepEqual(
      kubeadm.map((c) => c.split(" ")[1]),
      ["join"],
      kubeadm.join("\n"),
    );
    assert.match(r.stderr, /the cluster lives on at 10\.10\.0\.12: this replaced first server joins it/);
    // While joining, the endpoint name resolves to the live server; after, to itself.
    assert.equal(fs.readFileSync(path.join(s.state, "pin-at-join"), "utf8").trim().split(" ")[0], "10.10.0.12");
    assert.match(fs.readFileSync(path.join(s.root, "etc/hosts"), "utf8"), /^10\.10\.0\.11 kube-api\.c\.internal /m);
    assert.ok(!fs.existsSync(path.join(s.root, "etc/kubernetes/oci-k8s/join.yaml")), "the join token's file is gone");
    // Its init config is what later runs compare with (a changed endpoint is refused, not applied).
    assert.equal(fs.readFileSync(path.join(s.root, "etc/kubernetes/oci-k8s/kubeadm.yaml"), "utf8").trim(), settings.CONFIG);
    const again = s.run("kubeadm", ["init"], settings);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /control plane already initialised/);
  });

  it("on container hosts the rejoining first server makes its kubelet's cgroup root before each start, as a first install does", () => {
    const s = newFirst();
    const material = { ...MOCK_JOIN, via: "10.10.0.12" };
    const settings: Record<string, string> = {
      ...KUBEADM.installSettings(node, { ...cluster, containerHosts: true }, material),
      NODE_IP: "127.0.0.1",
    };
    assert.equal(settings.CGROUP_ROOT, "/oci-k8s-cp-1");
    const r = s.run("kubeadm", ["init"], settings);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /this replaced first server joins it/);
    const dropIn = path.join(s.root, "etc/systemd/system/kubelet.service.d/20-oci-k8s-cgroup-root.conf");
    assert.match(fs.readFileSync(dropIn, "utf8"), /^ExecStartPre=\/usr\/local\/sbin\/oci-k8s-kubelet-cgroup-root$/m);
    assert.match(fs.readFileSync(path.join(s.root, "usr/local/sbin/oci-k8s-kubelet-cgroup-root"), "utf8"), /oci-k8s-cp-1/);
  });

  it("without rejoin material it founds the cluster (kubeadm init)", () => {
    const s = newFirst();
    const r = s.run("kubeadm", ["init"], { ...KUBEADM.installSettings(node, cluster), NODE_IP: "127.0.0.1" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(s.calls().some((c) => c.startsWith("kubeadm init --config")));
    assert.ok(!s.calls().some((c) => c.startsWith("kubeadm join")));
  });

  it("revoke-rejoin revokes material where some was made, and does nothing where none was", () => {
    const none = kubeadmSandbox();
    const r = none.run("kubeadm", ["revoke-rejoin"], {});
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /no rejoin material was made; nothing to revoke/);
    assert.ok(!none.calls().some((c) => c.startsWith("kubeadm token delete")));
    const some = kubeadmSandbox();
    const r2 = some.run("kubeadm", ["revoke-rejoin"], { JOIN_TOKEN: "abcdef.0123456789abcdef" });
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(some.calls().includes("kubeadm token delete abcdef"));
  });
});
