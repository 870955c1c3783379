/**
 * The existing-hosts keys refuse whole classes of bad input before anything is registered, each
 * refusal naming the key, the value (never a secret's) and what is allowed. Labels and taints are
 * checked by Kubernetes' own rules (k8s.io/apimachinery v0.34 pkg/util/validation/validation.go:
 * IsQualifiedName for keys, IsValidLabelValue for values; k8s.io/api core/v1 TaintEffect for effects),
 * host keys by the SSH wire format (RFC 4253 section 6.6), addresses by RFC 6890's special blocks.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { isCompleteHostKey } from "../../config/hosts";
import { DISTRIBUTIONS } from "../../k8s/bootstrap/distributions";
import { labelValueProblem, qualifiedNameProblem } from "../../k8s/labels";
import { MINIMAL_CONFIG, ROOT, runProgram, stackConfigFrom } from "../../scripts/mock-program";
import { must, tempDir } from "../tools";

const example = (name: string) => stackConfigFrom(path.join(ROOT, "examples", "hosts", `Pulumi.${name}.yaml`));
const prefixed = (change: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(change).map(([k, v]) => [`oci-k8s:${k}`, v]));
const onprem = example("onprem-ha");
const hostsOf = (config: Record<string, unknown>) => config["oci-k8s:hosts"] as Record<string, unknown>[];
/** onprem-ha with host i changed. */
const withHost = (i: number, change: Record<string, unknown>) => ({
  hosts: hostsOf(onprem).map((h, j) => (j === i ? { ...h, ...change } : h)),
});
const KUBEADM = DISTRIBUTIONS.kubeadm;

/** A real ed25519 host key, as ssh-keygen writes its .pub line. */
function realKey(comment = "root@vps-1"): string {
  const dir = tempDir("hostkey");
  must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path.join(dir, "k")]);
  return fs.readFileSync(path.join(dir, "k.pub"), "utf8").trim();
}

async function refused(config: Record<string, unknown>, says: RegExp) {
  const r = await runProgram("bad", config);
  assert.ok(r.error, "accepted");
  assert.match(r.error!.message, says);
  assert.match(r.error!.message, /nothing was created/);
  assert.deepEqual(
    r.resources.filter((x) => !x.read),
    [],
    "resources were registered",
  );
}

describe("existing hosts: bad input classes are refused, naming key, value and what is allowed", function () {
  this.timeout(60_000);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    // Labels: Kubernetes' rules; a newline would inject another label.
    [
      "a label value with a newline",
      withHost(3, { labels: { "example.com/team": "a\nb" } }),
      /hosts\[3\]\.labels\.example\.com\/team: "a\\nb" is not a label value: .*IsValidLabelValue/,
    ],
    [
      "a label value of 64 characters",
      withHost(3, { labels: { "example.com/team": "a".repeat(64) } }),
      /hosts\[3\]\.labels\.example\.com\/team: "a{64}" is not a label value: it must be at most 63 characters/,
    ],
    [
      "a label key that is no qualified name",
      withHost(3, { labels: { "-team": "a" } }),
      /hosts\[3\]\.labels: "-team" is not a label key: .*IsQualifiedName/,
    ],
    [
      "a label key with an upper-case prefix",
      withHost(3, { labels: { "Example.com/team": "a" } }),
      /hosts\[3\]\.labels: "Example\.com\/team" is not a label key: it must have a prefix that is a lowercase DNS subdomain/,
    ],
    [
      "a kubernetes.io label",
      withHost(3, { labels: { "node-role.kubernetes.io/worker": "" } }),
      /hosts\[3\]\.labels: "node-role\.kubernetes\.io\/worker" uses the prefix kubernetes\.io\/, which belongs to Kubernetes/,
    ],
    ["a k8s.io label", withHost(3, { labels: { "k8s.io/zone": "a" } }), /"k8s\.io\/zone" uses the prefix k8s\.io\//],
    [
      "the program's own label",
      withHost(3, { labels: { "oci-k8s.io/role": "server" } }),
      /"oci-k8s\.io\/role" uses the prefix oci-k8s\.io\/, which belongs to the program/,
    ],
    // Taints.
    [
      "a taint effect Kubernetes does not have",
      withHost(3, { taints: ["gpu=yes:NoRun"] }),
      /hosts\[3\]\.taints\[0\]: "gpu=yes:NoRun" has the effect "NoRun"; allowed: NoSchedule, PreferNoSchedule, NoExecute/,
    ],
    [
      "a taint key with a space",
      withHost(3, { taints: ["gpu card=yes:NoSchedule"] }),
      /hosts\[3\]\.taints\[0\]: "gpu card=yes:NoSchedule" has a key that .*IsQualifiedName/,
    ],
    [
      "a taint value with a newline",
      withHost(3, { taints: ["gpu=a\nb:NoSchedule"] }),
      /hosts\[3\]\.taints\[0\]: .* (has a value that|must be a taint)/,
    ],
    [
      "a taint repeated for a key and effect",
      withHost(3, { taints: ["gpu=a:NoSchedule", "gpu=b:NoSchedule"] }),
      /hosts\[3\]\.taints\[1\]: "gpu=b:NoSchedule" repeats the taint gpu with effect NoSchedule/,
    ],
    [
      "a kubernetes.io taint",
      withHost(3, { taints: ["node.kubernetes.io/unschedulable:NoSchedule"] }),
      /hosts\[3\]\.taints\[0\]: .* uses the prefix kubernetes\.io\//,
    ],
    [
      "a stack where no host runs the platform's pods",
      { hosts: hostsOf(onprem).map((h) => ({ ...h, taints: ["dedicated=infra:NoSchedule"] })) },
      /oci-k8s:hosts: \[.*\] must include a host that runs the platform's pods/,
    ],
    // Addresses.
    [
      "two hosts at one address",
      withHost(4, { address: "10.10.0.21" }),
      /hosts\[4\]\.address: "10\.10\.0\.21" is also host worker-1's address/,
    ],
    [
      "two hosts with one privateIp",
      withHost(4, { address: "203.0.113.44", privateIp: "10.10.0.21" }),
      /hosts\[4\]\.address: "10\.10\.0\.21" is also host worker-1's address/,
    ],
    ["a loopback address", withHost(4, { address: "127.0.0.1" }), /hosts\[4\]\.address: "127\.0\.0\.1" is a loopback address/],
    ["the unspecified address", withHost(4, { privateIp: "0.0.0.0" }), /hosts\[4\]\.privateIp: "0\.0\.0\.0" is in 0\.0\.0\.0\/8/],
    [
      "the broadcast address",
      withHost(4, { address: "255.255.255.255" }),
      /hosts\[4\]\.address: "255\.255\.255\.255" is a reserved address .*broadcast/,
    ],
    [
      "a host inside the pod network",
      withHost(4, { address: "10.244.3.4" }),
      new RegExp(
        `hosts\\[4\\]\\.address: "10\\.244\\.3\\.4" is inside kubeadm's pod network ${KUBEADM.podCidr.replace(/\./g, "\\.")}`,
      ),
    ],
    [
      "a host inside the service network",
      withHost(4, { privateIp: "10.96.0.20" }),
      /hosts\[4\]\.privateIp: "10\.96\.0\.20" is inside kubeadm's service network/,
    ],
    // The API endpoint.
    [
      "a VIP off the servers' network",
      { apiVip: "192.168.50.10" },
      /oci-k8s:apiVip: "192\.168\.50\.10" is not on the servers' network/,
    ],
    ["a VIP in the pod network", { apiVip: "10.244.0.10" }, /oci-k8s:apiVip: "10\.244\.0\.10" is inside kubeadm's pod network/],
    ["a loopback VIP", { apiVip: "127.0.0.10" }, /oci-k8s:apiVip: "127\.0\.0\.10" is a loopback address/],
    [
      "a VIP that is an agent's address",
      { apiVip: "10.10.0.22" },
      /oci-k8s:apiVip: "10\.10\.0\.22" is host worker-2's own address/,
    ],
    // MetalLB's pools.
    [
      "a reversed MetalLB range",
      metallb(["10.10.100.20-10.10.100.10"]),
      /componentValues\.metallb\.addresses\[0\]: "10\.10\.100\.20-10\.10\.100\.10" is reversed/,
    ],
    [
      "a world-wide MetalLB pool",
      metallb(["0.0.0.0/0"]),
      /componentValues\.metallb\.addresses\[0\]: "0\.0\.0\.0\/0" holds more than 65,536 addresses/,
    ],
    [
      "a MetalLB pool over the hosts",
      metallb(["10.10.0.0/24"]),
      /componentValues\.metallb\.addresses\[0\]: "10\.10\.0\.0\/24" holds host cp-1's address 10\.10\.0\.11/,
    ],
    [
      "a MetalLB pool holding the VIP",
      metallb(["10.10.0.8-10.10.0.10"]),
      /componentValues\.metallb\.addresses\[0\]: "10\.10\.0\.8-10\.10\.0\.10" holds the API VIP 10\.10\.0\.10/,
    ],
    [
      "a MetalLB pool in the service network",
      metallb(["10.96.10.0/24"]),
      /componentValues\.metallb\.addresses\[0\]: "10\.96\.10\.0\/24" reaches an address that is inside kubeadm's service network/,
    ],
    [
      "two MetalLB pools that overlap",
      metallb(["10.10.100.0/24", "10.10.100.128/25"]),
      /componentValues\.metallb\.addresses\[1\]: "10\.10\.100\.128\/25" overlaps componentValues\.metallb\.addresses\[0\]/,
    ],
    // DNS and disks.
    [
      "a loopback stub as upstream DNS",
      { upstreamDns: ["127.0.0.53"] },
      /oci-k8s:upstreamDns\[0\]: "127\.0\.0\.53" must be a real resolver, not a loopback stub/,
    ],
    [
      "a data disk with ..",
      withHost(3, { dataDisk: "/dev/../etc/shadow" }),
      /hosts\[3\]\.dataDisk: "\/dev\/\.\.\/etc\/shadow" must be a block device path under \/dev without \. or \.\./,
    ],
    [
      "a data disk climbing out of /dev/disk",
      withHost(3, { dataDisk: "/dev/disk/by-id/../../sda" }),
      /hosts\[3\]\.dataDisk: .* without \. or \.\./,
    ],
    [
      "/dev/null as the data disk",
      withHost(3, { dataDisk: "/dev/null" }),
      /hosts\[3\]\.dataDisk: "\/dev\/null" must be a disk, not a character device/,
    ],
    [
      "a data disk outside /dev",
      withHost(3, { dataDisk: "/srv/disk.img" }),
      /hosts\[3\]\.dataDisk: "\/srv\/disk\.img" must be a block device path under \/dev/,
    ],
    // Keys that mean nothing for the stack's kind.
    [
      "an Oracle VCN on a hosts stack",
      { vcnCidr: "10.50.0.0/16" },
      /oci-k8s:vcnCidr: "10\.50\.0\.0\/16" applies to Oracle Cloud stacks only/,
    ],
    [
      "a compartment on a hosts stack",
      { compartmentId: "ocid1.compartment.oc1..aaaa" },
      /oci-k8s:compartmentId: .* applies to Oracle Cloud stacks only/,
    ],
    [
      "a budget alert address on a hosts stack (Oracle's guards are for Oracle stacks)",
      { alertEmail: "ops@example.com" },
      /oci-k8s:alertEmail: "ops@example\.com" applies to Oracle Cloud stacks only/,
    ],
    ["oracleQuota on a hosts stack", { oracleQuota: false }, /oci-k8s:oracleQuota: false applies to Oracle Cloud stacks only/],
    [
      "sshPublicKey on a hosts stack",
      { sshPublicKey: realKey() },
      /oci-k8s:sshPublicKey: .* applies to Oracle Cloud stacks only/,
    ],
    ["jumpHostKey without jumpHost", { jumpHostKey: realKey("root@bastion") }, /oci-k8s:jumpHostKey: .* goes with jumpHost/],
    [
      "a jump host outside adminCidrs with hostFirewall on",
      { jumpHost: "10.10.0.5", jumpHostKey: realKey("root@bastion") },
      /oci-k8s:jumpHost: "10\.10\.0\.5" is outside adminCidrs \(192\.168\.1\.0\/24\): with hostFirewall on, the hosts would drop its SSH/,
    ],
    // Host keys.
    [
      "a host key whose blob is cut short",
      withHost(0, { hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleHostKeyOfVps1ReplaceWithSshKeyscan" }),
      /hosts\[0\]\.hostKey: .* must be a complete OpenSSH public host key/,
    ],
    [
      "a host key whose type is not its blob's",
      withHost(0, { hostKey: realKey().replace(/^ssh-ed25519/, "ssh-rsa") }),
      /hosts\[0\]\.hostKey: .* must be a complete OpenSSH public host key/,
    ],
    [
      "a host without hostKey",
      withHost(0, { hostKey: undefined }),
      /hosts\[0\]\.hostKey: \(not set\) must be set: without it the program sends the cluster token and backup keys to whatever answers at 10\.10\.0\.11.*acceptUnverifiedHostKeys/,
    ],
    [
      "acceptUnverifiedHostKeys naming no host",
      { acceptUnverifiedHostKeys: ["cp-9"] },
      /oci-k8s:acceptUnverifiedHostKeys\[0\]: "cp-9" names no host; allowed: cp-1, .*jumpHost/,
    ],
    [
      "an unknown host field",
      withHost(0, { cpus: 4 }),
      /hosts\[0\]: \["cpus"\] are not host fields; allowed: name, role, address, privateIp, user, arch, memoryGb, labels, taints, ingress, dataDisk, hostKey/,
    ],
  ];
  for (const [what, change, says] of cases) it(`refuses ${what}`, () => refused({ ...onprem, ...prefixed(change) }, says));

  it("refuses apiAddress that is one server's own", () =>
    refused(
      { ...example("cloud-rke2"), "oci-k8s:apiAddress": "10.20.0.11" },
      /oci-k8s:apiAddress: "10\.20\.0\.11" is server server-1's own address: the API endpoint would not survive that server/,
    ));

  it("refuses hosts-only keys on an Oracle Cloud stack", async () => {
    await refused(
      { ...MINIMAL_CONFIG, "oci-k8s:upstreamDns": ["1.1.1.1"] },
      /oci-k8s:upstreamDns: \["1\.1\.1\.1"\] applies to hosts stacks only/,
    );
    await refused(
      { ...MINIMAL_CONFIG, "oci-k8s:jumpHostKey": realKey() },
      /oci-k8s:jumpHostKey: .* applies to hosts stacks only/,
    );
  });

  it("takes a hosts stack with sshPrivateKey alone, as the docs describe (the public key is an Oracle stack's)", async () => {
    const dir = tempDir("sshkey");
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "id")]);
    const privateKey = fs.readFileSync(path.join(dir, "id"), "utf8");
    const r = await runProgram("key", { ...onprem, "oci-k8s:sshPrivateKey": privateKey });
    assert.equal(r.error, undefined, r.error?.message);
  });

  it("takes a .pub line with its comment and pins the key alone; an unverified host only by name", async () => {
    const line = realKey("root@cp-1 (from /etc/ssh/ssh_host_ed25519_key.pub)");
    const r = await runProgram("pub", { ...onprem, ...prefixed(withHost(0, { hostKey: line })) });
    assert.equal(r.error, undefined, r.error?.message);
    const prepare = r.resources.find((x) => x.name === "cp-1-prepare")!;
    assert.equal(prepare.inputs.connection.hostKey, line.split(" ").slice(0, 2).join(" "));
    const unverified = await runProgram("tofu", {
      ...onprem,
      ...prefixed({ ...withHost(0, { hostKey: undefined }), acceptUnverifiedHostKeys: ["cp-1"] }),
    });
    assert.equal(unverified.error, undefined, unverified.error?.message);
  });

  it("Kubernetes' rules, as apimachinery states them (IsQualifiedName, IsValidLabelValue)", () => {
    // validation_test.go's good and bad examples (k8s.io/apimachinery v0.34, pkg/util/validation).
    for (const good of [
      "simple",
      "now-with-dashes",
      "1-starts-with-num",
      "1234",
      "simple/simple",
      "now-with-dashes/simple",
      "1.2.3.4/3-4",
      "a.b.c/" + "a".repeat(63),
    ])
      assert.equal(qualifiedNameProblem(good), undefined, good);
    for (const bad of [
      "nospecialchars%^=@",
      "cantendwithadash-",
      "-cantstartwithadash-",
      "only/one/slash",
      "Example.com/abc",
      "/simple",
      "simple/",
      "a".repeat(64),
      "x".repeat(254) + "/abc",
      "a\n",
    ])
      assert.notEqual(qualifiedNameProblem(bad), undefined, JSON.stringify(bad));
    for (const good of [
      "",
      "simple",
      "now-with-dashes",
      "1-starts-with-num",
      "end-with-num-1",
      "1234",
      "a".repeat(63),
      "A.B_c-9",
    ])
      assert.equal(labelValueProblem(good), undefined, good);
    for (const bad of [
      "nospecialchars%^=@",
      "Tama-nui-te-rā.is.Māori.sun",
      "\\backslashes\\are\\bad",
      "-starts-with-dash",
      "ends-with-dash-",
      ".starts.with.dot",
      "ends.with.dot.",
      "a".repeat(64),
      "a\nb",
      "a b",
    ])
      assert.notEqual(labelValueProblem(bad), undefined, JSON.stringify(bad));
  });

  it("host keys: complete keys of every type sshd serves pass; a cut, mislabelled or padded one does not", () => {
    const dir = tempDir("hostkeys");
    for (const [type, bits] of [
      ["ed25519", ""],
      ["ecdsa", "256"],
      ["ecdsa", "384"],
      ["ecdsa", "521"],
      ["rsa", "3072"],
    ]) {
      const file = path.join(dir, `${type}${bits}`);
      must("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", bits] : []), "-N", "", "-C", "root@host", "-f", file]);
      const line = fs.readFileSync(`${file}.pub`, "utf8").trim();
      assert.ok(isCompleteHostKey(line), line);
      const [t, blob] = line.split(" ");
      assert.ok(!isCompleteHostKey(`${t} ${blob.slice(0, -8)}`), `cut ${t}`);
      assert.ok(!isCompleteHostKey(blob), "no type");
    }
    assert.ok(!isCompleteHostKey("ssh-ed25519 AAAA"));
  });
});

function metallb(addresses: string[]) {
  return { componentValues: { metallb: { mode: "l2", addresses } } };
}
