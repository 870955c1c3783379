/** Every policy, both ways: the real plans of both stacks pass; a resource that breaks it is reported. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { encodeSettings, libScriptStdin, scriptCommand, scriptStdin } from "../k8s/bootstrap/scripts";
import {
  MINIMAL_CONFIG,
  MOCK_JOIN,
  MOCK_TOKEN,
  Registered,
  ROOT,
  runOk,
  stackConfig,
  stackConfigFrom,
} from "../scripts/mock-program";
import { oneServer } from "../test/k8s/bootstrap.fixtures";
import { pkiValue, stackBucket, standInPki } from "../test/k8s/recovery.fixtures";
import {
  freeTierBudget,
  noWorldAdminPorts,
  pinnedChartVersions,
  POLICIES,
  quotaMatchesPlan,
  secretsStaySecret,
  usageOf,
} from "./policies";

/** A key header, assembled so that no private-key marker sits in the repository's files. */
const keyHeader = (kind: string) => `-----BEGIN ${kind} PRIVATE` + " KEY-----";

interface FakeResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  opts?: { additionalSecretOutputs?: string[] };
}

const asPolicyResource = (r: FakeResource) => ({
  ...r,
  urn: `urn:pulumi:test::oci-k8s::${r.type}::${r.name}`,
  opts: r.opts ?? {},
});
const fromRegistered = (r: Registered): FakeResource => ({
  type: r.type,
  name: r.name,
  props: r.inputs,
  opts: { additionalSecretOutputs: r.additionalSecretOutputs },
});

/** Runs one resource policy on resources; returns the violation messages. */
function checkResources(policy: (typeof POLICIES)[number], resources: FakeResource[]): string[] {
  const found: string[] = [];
  for (const r of resources) {
    if ("validateResource" in policy)
      (policy.validateResource as (args: unknown, report: (m: string) => void) => void)(asPolicyResource(r), (message: string) =>
        found.push(message),
      );
  }
  return found;
}

function checkStack(resources: FakeResource[], tier = "always-free", policy = freeTierBudget): string[] {
  const found: string[] = [];
  (policy.validateStack as (args: unknown, report: (m: string) => void) => void)(
    { resources: resources.map(asPolicyResource), getConfig: () => ({ tier }) },
    (m: string) => found.push(m),
  );
  return found;
}

const instance = (name: string, shape: string, ocpus: number, memory: number, boot = "50") => ({
  type: "oci:Core/instance:Instance",
  name,
  props: { shape, shapeConfig: { ocpus, memoryInGbs: memory }, sourceDetails: { bootVolumeSizeInGbs: boot }, metadata: {} },
});

describe("policy pack", () => {
  for (const stack of ["dev", "prd"]) {
    it(`passes the ${stack} stack's plan on every policy, with the policy config the workflows pass`, async () => {
      // Exactly what preview.yml and deploy.yml hand the pack: policy/config/<stack>.json.
      for (const wf of ["preview.yml", "deploy.yml"]) {
        const text = fs.readFileSync(path.join(ROOT, ".github", "workflows", wf), "utf8");
        assert.match(text, /policyPackConfigs: policy\/config\/\$\{\{ matrix\.stack \}\}\.json/, wf);
      }
      const passed = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "config", `${stack}.json`), "utf8"));
      const tier = String(passed["free-tier-budget"].tier);
      assert.equal(tier, stackConfig(stack)["oci-k8s:tier"], "the policy's tier is the stack's");
      const r = await runOk(stack, stackConfig(stack));
      const resources = r.resources.map(fromRegistered);
      for (const policy of POLICIES) {
        const found = "validateStack" in policy ? checkStack(resources, tier, policy) : checkResources(policy, resources);
        assert.deepEqual(found, [], `${policy.name} on ${stack}`);
      }
      assert.deepEqual(
        usageOf(resources).find((u) => u.resource === "blockStorageGb"),
        { resource: "blockStorageGb", used: 200 },
      );
    });
  }

  it("free-tier-budget reports a plan over the allowance and a billed shape", () => {
    const found = checkStack([instance("big", "VM.Standard.A1.Flex", 4, 24), instance("x86", "VM.Standard.E4.Flex", 1, 8)]);
    assert.ok(found.some((m) => /x86: shape VM\.Standard\.E4\.Flex is not in the free tier/.test(m)));
    assert.ok(found.some((m) => /Ampere A1 OCPUs: 4 OCPU used, 2 allowed on always-free/.test(m)));
    assert.ok(found.some((m) => /Ampere A1 memory: 24 GB used, 12 allowed/.test(m)));
    // Every tenancy has the same free A1: on payg the excess is billed, which the policy reports too.
    assert.ok(
      checkStack([instance("big", "VM.Standard.A1.Flex", 4, 24)], "payg").some((m) => /4 OCPU used, 2 allowed on payg/.test(m)),
    );
    assert.deepEqual(checkStack([instance("fits", "VM.Standard.A1.Flex", 2, 12)], "payg"), []);
    assert.ok(
      checkStack([{ type: "oci:Core/natGateway:NatGateway", name: "nat", props: {} }]).some((m) =>
        /NAT gateways: 1 used, 0 allowed/.test(m),
      ),
    );
    const lb = {
      type: "oci:LoadBalancer/loadBalancer:LoadBalancer",
      name: "lb",
      props: { shape: "flexible", shapeDetails: { minimumBandwidthInMbps: 10, maximumBandwidthInMbps: 100 } },
    };
    assert.ok(checkStack([lb]).some((m) => /only a flexible load balancer at 10 Mbps is free/.test(m)));
  });

  it("oracle-quota-matches-plan reports a quota that allows more than the plan's instances use", () => {
    const quota = (statements: string[]) => ({ type: "oci:Limits/quota:Quota", name: "quota", props: { statements } });
    const plan = [instance("server-1", "VM.Standard.A1.Flex", 2, 12)];
    const exact = [
      "set compute-core quota standard-a1-core-count to 2 in compartment k8s",
      "set compute-memory quota standard-a1-memory-regional-count to 12 in compartment k8s",
      "set compute-core quota standard-e2-micro-core-count to 0 in compartment k8s",
      "set block-storage quota total-storage-gb to 50 in compartment k8s",
      "zero load-balancer quotas in compartment k8s",
    ];
    assert.deepEqual(checkStack([...plan, quota(exact)], "always-free", quotaMatchesPlan), []);
    const loose = checkStack(
      [...plan, quota(["set compute-core quota standard-a1-core-regional-count to 4 in compartment k8s"])],
      "always-free",
      quotaMatchesPlan,
    );
    assert.deepEqual(loose, [
      'quota: "set compute-core quota standard-a1-core-regional-count to 4 in compartment k8s" allows more than the plan uses (2)',
    ]);
    assert.deepEqual(checkStack(plan, "always-free", quotaMatchesPlan), [], "no quota (oracleQuota: false): nothing to check");
  });

  it("no-world-admin-ports reports SSH or the API open to the world, and allows 443", () => {
    const rule = (min: number, max: number, source = "0.0.0.0/0", protocol = "6") => ({
      type: "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
      name: `r-${min}-${max}-${source}`,
      props: { direction: "INGRESS", protocol, source, tcpOptions: { destinationPortRange: { min, max } } },
    });
    assert.equal(checkResources(noWorldAdminPorts, [rule(22, 22)]).length, 1);
    assert.equal(checkResources(noWorldAdminPorts, [rule(1, 65535)]).length, 1);
    assert.equal(checkResources(noWorldAdminPorts, [rule(6443, 6443)]).length, 1);
    assert.equal(
      checkResources(noWorldAdminPorts, [
        { ...rule(0, 0), props: { direction: "INGRESS", protocol: "all", source: "0.0.0.0/0" } },
      ]).length,
      1,
    );
    assert.deepEqual(checkResources(noWorldAdminPorts, [rule(443, 443), rule(22, 22, "203.0.113.10/32")]), []);
    const list = {
      type: "oci:Core/securityList:SecurityList",
      name: "sl",
      props: { ingressSecurityRules: [{ protocol: "6", source: "0.0.0.0/0", tcpOptions: { min: 22, max: 22 } }] },
    };
    assert.match(checkResources(noWorldAdminPorts, [list])[0], /security list sl opens a cluster port/);
    // The internet split in halves is still the internet; every cluster port counts, UDP too.
    assert.equal(checkResources(noWorldAdminPorts, [rule(22, 22, "0.0.0.0/1"), rule(22, 22, "128.0.0.0/1")]).length, 2);
    assert.equal(checkResources(noWorldAdminPorts, [rule(10250, 10250, "10.0.0.0/8")]).length, 1);
    // Fails closed on a source it cannot read: the IPv6 internet, host bits set on a wide prefix.
    for (const source of ["::/0", "1.2.3.4/0", "128.0.0.1/1", "0.0.0.0"])
      assert.equal(checkResources(noWorldAdminPorts, [rule(22, 22, source)]).length, 1, source);
    // Another NSG as the source (the program's node-to-node rules) is not a CIDR.
    const fromNsg = rule(10250, 10250, "ocid1.networksecuritygroup.oc1..nodes");
    assert.deepEqual(
      checkResources(noWorldAdminPorts, [{ ...fromNsg, props: { ...fromNsg.props, sourceType: "NETWORK_SECURITY_GROUP" } }]),
      [],
    );
    for (const [min, max] of [
      [2379, 2380],
      [9345, 9345],
    ])
      assert.equal(checkResources(noWorldAdminPorts, [rule(min, max)]).length, 1, `${min}`);
    const vxlan = {
      type: "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
      name: "udp",
      props: {
        direction: "INGRESS",
        protocol: "17",
        source: "0.0.0.0/0",
        udpOptions: { destinationPortRange: { min: 8472, max: 8472 } },
      },
    };
    assert.equal(checkResources(noWorldAdminPorts, [vxlan]).length, 1);
    // A /16 office network is an admin network.
    assert.deepEqual(checkResources(noWorldAdminPorts, [rule(22, 22, "172.16.0.0/16")]), []);
  });

  it("pinned-chart-versions reports a release without an exact version", () => {
    const release = (version: unknown) => ({ type: "kubernetes:helm.sh/v3:Release", name: "x", props: { chart: "x", version } });
    for (const bad of [undefined, "", "^1.2.0", "1.x", "latest", ">=1.0.0"])
      assert.equal(checkResources(pinnedChartVersions, [release(bad)]).length, 1, String(bad));
    for (const good of ["41.3.0", "v1.21.1", "1.0.0-rc.1"])
      assert.deepEqual(checkResources(pinnedChartVersions, [release(good)]), []);
  });

  it("secrets-stay-secret reports keys on command lines or in user data, and unprotected secret output", () => {
    const cmd = (create: string, extra: Record<string, unknown> = {}, secretOutputs: string[] = []) => ({
      type: "command:remote:Command",
      name: "c",
      props: { create, ...extra },
      opts: { additionalSecretOutputs: secretOutputs },
    });
    assert.equal(checkResources(secretsStaySecret, [cmd(`echo ${keyHeader("OPENSSH")} x`)]).length, 1);
    // Every field of a command, and GitHub's fine-grained tokens.
    const pat = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz";
    assert.deepEqual(checkResources(secretsStaySecret, [cmd("true", { update: `git clone https://${pat}@github.com/x` })]), [
      "c: the update command line contains a private key or token",
    ]);
    assert.deepEqual(checkResources(secretsStaySecret, [cmd("true", { environment: { TOKEN: pat } })]), [
      "c: environment TOKEN contains a private key or token",
    ]);
    assert.equal(checkResources(secretsStaySecret, [cmd(`k3s server --token K10${"a".repeat(64)}::server:abc`)]).length, 1);
    assert.deepEqual(checkResources(secretsStaySecret, [cmd("sudo bash -c '...' kubeconfig /etc/rancher/k3s/k3s.yaml")]), [
      "c: prints secrets but its stdout is not secret",
      'c: prints secrets but logs its output (set logging: "none")',
    ]);
    assert.deepEqual(
      checkResources(secretsStaySecret, [cmd("sudo bash -c '...' kubeconfig /etc/x", { logging: "none" }, ["stdout"])]),
      [],
    );
    const userData = Buffer.from(`#cloud-config\nwrite_files: [{content: '${keyHeader("RSA")}'}]`).toString("base64");
    const leaky = {
      ...instance("n", "VM.Standard.A1.Flex", 1, 6),
      props: { ...instance("n", "VM.Standard.A1.Flex", 1, 6).props, metadata: { user_data: userData } },
    };
    assert.match(checkResources(secretsStaySecret, [leaky])[0], /user_data contains a private key or token/);
    // The node's own SSH host key under cloud-init's ssh_keys is allowed; one elsewhere beside it is not.
    const withHostKey = (extra: string) => ({
      ...instance("n", "VM.Standard.A1.Flex", 1, 6),
      props: {
        ...instance("n", "VM.Standard.A1.Flex", 1, 6).props,
        metadata: {
          user_data: Buffer.from(
            `#cloud-config\nssh_keys:\n  ed25519_private: |\n    ${keyHeader("OPENSSH")}\n    abc\n  ed25519_public: ssh-ed25519 AAAA\n${extra}`,
          ).toString("base64"),
        },
      },
    });
    assert.deepEqual(checkResources(secretsStaySecret, [withHostKey("")]), []);
    assert.equal(checkResources(secretsStaySecret, [withHostKey(`write_files: [{content: '${keyHeader("RSA")}'}]\n`)]).length, 1);
  });

  it("secrets-stay-secret passes every shipped stack and example, kubeadm's and RKE2's included", async () => {
    const files = [
      "examples/stacks/Pulumi.prd-shared.yaml",
      ...fs
        .readdirSync(path.join(ROOT, "examples", "hosts"))
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
        .map((f) => `examples/hosts/${f}`),
    ];
    assert.ok(files.some((f) => /kubeadm/.test(f)) && files.some((f) => /rke2/.test(f)), files.join(", "));
    for (const file of files) {
      const name = path.basename(file).replace(/^Pulumi\.|\.yaml$/g, "");
      const r = await runOk(name, stackConfigFrom(path.join(ROOT, file)));
      assert.deepEqual(checkResources(secretsStaySecret, r.resources.map(fromRegistered)), [], file);
      // And by the program's own marking, which the pack cannot see: a stdin sent as a secret logs nothing.
      const secretStdin = r.resources.filter((c) => c.type.startsWith("command:") && c.secretInputs.includes("stdin"));
      assert.ok(secretStdin.length > 0, file);
      for (const c of secretStdin) assert.equal(c.inputs.logging, "none", `${file}: ${c.name}`);
    }
  });

  it("secrets-stay-secret passes stacks with a backup bucket (each server's recovery bundle) and a kubeadm rebuild (restore-pki)", async function () {
    this.timeout(120_000);
    const bucket = stackBucket();
    const stacks: Record<string, Record<string, unknown>> = {
      k3s: { ...MINIMAL_CONFIG, ...bucket, distribution: "k3s", nodes: [...oneServer] },
      kubeadm: {
        ...MINIMAL_CONFIG,
        ...bucket,
        distribution: "kubeadm",
        nodes: [...oneServer],
        restoreKubeadmPki: pkiValue(standInPki("old")),
      },
    };
    for (const [name, config] of Object.entries(stacks)) {
      const r = await runOk("bucket", config);
      const names = r.resources.map((c) => c.name);
      assert.ok(names.includes("server-1-recovery"), name);
      if (name === "kubeadm") assert.ok(names.includes("server-1-restore-pki"), name);
      assert.deepEqual(checkResources(secretsStaySecret, r.resources.map(fromRegistered)), [], name);
    }
  });

  describe("secrets-stay-secret on commands: every field, the program's own secrets, logging off", () => {
    const cmd = (props: Record<string, unknown>, secretOutputs: string[] = []) => ({
      type: "command:remote:Command",
      name: "c",
      props: { create: "true", ...props },
      opts: { additionalSecretOutputs: secretOutputs },
    });
    const check = (props: Record<string, unknown>, secretOutputs: string[] = []) =>
      checkResources(secretsStaySecret, [cmd(props, secretOutputs)]);

    it("finds the program's cluster token and a kubeadm bootstrap token in any field but the connection and stdin", () => {
      assert.equal(MOCK_TOKEN.length, 48, "the mock token has the real token's length");
      assert.deepEqual(check({ create: `k3s server --token ${MOCK_TOKEN}` }), [
        "c: the create command line contains a private key or token",
      ]);
      assert.deepEqual(check({ delete: `kubeadm reset --token ${MOCK_JOIN.JOIN_TOKEN}` }), [
        "c: the delete command line contains a private key or token",
      ]);
      assert.deepEqual(check({ triggers: ["a", { token: MOCK_TOKEN }] }), [
        "c: triggers[1].token contains a private key or token",
      ]);
      assert.deepEqual(check({ environment: { JOIN: MOCK_JOIN.JOIN_TOKEN } }), [
        "c: environment JOIN contains a private key or token",
      ]);
      assert.deepEqual(check({ dir: `/tmp/${MOCK_TOKEN}` }), ["c: dir contains a private key or token"]);
      // The SSH connection carries the login key by design.
      assert.deepEqual(check({ connection: { host: "h", privateKey: `${keyHeader("OPENSSH")}\nabc` } }), []);
      // Not every long word is a token: a sha256 (64 hex), an OCID, a kubeadm CA hash.
      assert.deepEqual(
        check({ create: `echo ${"a".repeat(64)} ocid1.instance.oc1.eu-frankfurt-1.${"b".repeat(60)} ${MOCK_JOIN.CA_CERT_HASH}` }),
        [],
      );
    });

    it("a command whose stdin carries a secret must log nothing", () => {
      const secretStdins = {
        "a TOKEN setting": scriptStdin("rollout", encodeSettings({ JOIN_TOKEN: MOCK_JOIN.JOIN_TOKEN })),
        "a config setting with the cluster token": scriptStdin("rancher", encodeSettings({ CONFIG: `token: ${MOCK_TOKEN}\n` })),
        "a config setting with an S3 secret key": scriptStdin(
          "rancher",
          encodeSettings({ CONFIG: "etcd-s3-secret-key: abc/def\n" }),
        ),
        "a plain stdin with a private key": `${keyHeader("RSA")}\n`,
      };
      for (const [what, stdin] of Object.entries(secretStdins)) {
        const found = check({ stdin });
        assert.equal(found.length, 1, what);
        assert.match(found[0], /^c: its stdin carries a secret \(.+\) but it logs its output \(set logging: "none"\)$/, what);
        for (const logging of ["stdout", "stderr", "stdoutAndStderr"])
          assert.equal(check({ stdin, logging }).length, 1, `${what}, ${logging}`);
        assert.deepEqual(check({ stdin, logging: "none" }), [], what);
      }
      // Settings that are no secret, and the scripts themselves, log as they like.
      assert.deepEqual(
        check({
          stdin: scriptStdin("rollout", encodeSettings({ NODE_NAME: "n", KUBECONFIG_PATH: "/etc/rancher/k3s/k3s.yaml" })),
        }),
        [],
      );
    });

    it("a command whose stdout is secret, or that reads a kubeconfig or prints join secrets, logs nothing and keeps stdout secret", () => {
      assert.deepEqual(check({}, ["stdout"]), ['c: prints secrets but logs its output (set logging: "none")']);
      for (const create of [
        "sudo cat /etc/kubernetes/admin.conf",
        "sudo tail -n +1 /etc/rancher/rke2/rke2.yaml",
        "sudo k3s kubectl config view --raw",
        "kubectl --kubeconfig /etc/kubernetes/admin.conf config view --raw --minify",
        "sudo kubeadm token create --ttl 15m --print-join-command",
        "sudo kubeadm init phase upload-certs --upload-certs",
        scriptCommand("kubeconfig", "/etc/rancher/k3s/k3s.yaml"),
      ]) {
        assert.deepEqual(
          check({ create }),
          ["c: prints secrets but its stdout is not secret", 'c: prints secrets but logs its output (set logging: "none")'],
          create,
        );
        assert.deepEqual(check({ create, logging: "none" }, ["stdout"]), [], create);
      }
      // Using a kubeconfig is not reading it.
      assert.deepEqual(check({ create: "sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes" }), []);
    });

    it("kubeadm init must not print its token or certificate key, on a command line or in the script on stdin", () => {
      assert.deepEqual(check({ create: "sudo kubeadm init --config /etc/k.yaml --upload-certs", logging: "none" }), [
        "c: runs kubeadm init without --skip-token-print and --skip-certificate-key-print (it prints the join secrets)",
      ]);
      assert.deepEqual(check({ create: "sudo kubeadm init", logging: "none" }), [
        "c: runs kubeadm init without --skip-token-print (it prints the join secrets)",
      ]);
      const body = (line: string) => `set -euo pipefail\n# kubeadm init is run below\necho "kubeadm init failed"\n${line}\n`;
      assert.deepEqual(
        check({ stdin: libScriptStdin(body("kubeadm init --config /k.yaml \\\n  --upload-certs --skip-token-print")) }),
        ["c: runs kubeadm init without --skip-certificate-key-print (it prints the join secrets)"],
      );
      assert.deepEqual(
        check({
          stdin: libScriptStdin(
            body("kubeadm init --config /k.yaml \\\n  --upload-certs --skip-token-print --skip-certificate-key-print"),
          ),
        }),
        [],
      );
      // The program's kubeadm.sh, the action named on its loader's command line included.
      assert.deepEqual(check({ create: scriptCommand("kubeadm", "init"), stdin: scriptStdin("kubeadm") }), []);
    });
  });
});
