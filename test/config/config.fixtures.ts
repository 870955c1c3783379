/** Shared by the config tests: fixtures and helpers. */
import { MINIMAL_CONFIG } from "../../scripts/mock-program";

export const server = { name: "server-1", role: "server", ocpus: 1 };
export const micro = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  role: "agent",
  shape: "VM.Standard.E2.1.Micro",
  ...extra,
});

export interface BadCase {
  readonly why: string;
  readonly config: Record<string, unknown>;
  /** The key the message must name. */
  readonly key: string;
  /** Text the message must contain besides the key: the bad value and what is allowed. */
  readonly says: RegExp;
}

export const base = MINIMAL_CONFIG;
export const BAD: BadCase[] = [
  {
    why: "no compartment",
    config: { ...base, compartmentId: undefined },
    key: "oci-k8s:compartmentId",
    says: /\(not set\) is required/,
  },
  {
    why: "compartment is not an OCID",
    config: { ...base, compartmentId: "my-compartment" },
    key: "oci-k8s:compartmentId",
    says: /"my-compartment" must be a compartment or tenancy OCID/,
  },
  { why: "unknown tier", config: { ...base, tier: "free" }, key: "oci-k8s:tier", says: /"free" allowed: always-free, payg/ },
  {
    why: "charges on always-free",
    config: { ...base, acceptCharges: true },
    key: "oci-k8s:acceptCharges",
    says: /payg tenancies only/,
  },
  {
    why: "NAT on always-free",
    config: { ...base, natGateway: true, nodes: [{ ...server, subnet: "public" }] },
    key: "oci-k8s:natGateway",
    says: /not available on an always-free tenancy/,
  },
  { why: "no admin CIDRs", config: { ...base, adminCidrs: undefined }, key: "oci-k8s:adminCidrs", says: /\(not set\)/ },
  { why: "empty admin CIDRs", config: { ...base, adminCidrs: [] }, key: "oci-k8s:adminCidrs", says: /at least one CIDR/ },
  {
    why: "admin CIDR does not parse",
    config: { ...base, adminCidrs: ["203.0.113.300/32"] },
    key: "oci-k8s:adminCidrs[0]",
    says: /"203\.0\.113\.300\/32" is not an IPv4 CIDR/,
  },
  {
    why: "admin CIDR with host bits",
    config: { ...base, adminCidrs: ["203.0.113.10/24"] },
    key: "oci-k8s:adminCidrs[0]",
    says: /host bits set; the network is 203\.0\.113\.0\/24/,
  },
  {
    why: "world SSH without opt-in",
    config: { ...base, adminCidrs: ["0.0.0.0/0"] },
    key: "oci-k8s:adminCidrs[0]",
    says: /"0\.0\.0\.0\/0" is wider than \/16: it opens SSH.*allowWorldAdminAccess: true/,
  },
  {
    why: "the internet in two halves (0.0.0.0/1 + 128.0.0.0/1)",
    config: { ...base, adminCidrs: ["0.0.0.0/1", "128.0.0.0/1"] },
    key: "oci-k8s:adminCidrs[1]",
    says: /"128\.0\.0\.0\/1" is wider than \/16/,
  },
  {
    why: "an admin range wider than /16",
    config: { ...base, adminCidrs: ["10.0.0.0/8"] },
    key: "oci-k8s:adminCidrs[0]",
    says: /"10\.0\.0\.0\/8" is wider than \/16/,
  },
  {
    why: "VCN CIDR does not parse",
    config: { ...base, vcnCidr: "10.0.0/16" },
    key: "oci-k8s:vcnCidr",
    says: /"10\.0\.0\/16" is not an IPv4 CIDR/,
  },
  { why: "VCN too large", config: { ...base, vcnCidr: "10.0.0.0/8" }, key: "oci-k8s:vcnCidr", says: /\/16 to \/30/ },
  {
    why: "subnet outside the VCN",
    config: { ...base, publicSubnetCidr: "192.168.0.0/24" },
    key: "oci-k8s:publicSubnetCidr",
    says: /"192\.168\.0\.0\/24" must lie inside vcnCidr 10\.0\.0\.0\/16/,
  },
  {
    why: "overlapping subnets",
    config: { ...base, privateSubnetCidr: "10.0.0.128/25" },
    key: "oci-k8s:privateSubnetCidr",
    says: /must not overlap publicSubnetCidr/,
  },
  {
    why: "unknown distribution",
    config: { ...base, distribution: "k0s" },
    key: "oci-k8s:distribution",
    says: /"k0s" allowed: k3s, kubeadm, rke2/,
  },
  {
    why: "containerHosts with k3s",
    config: { ...base, containerHosts: true },
    key: "oci-k8s:containerHosts",
    says: /true is only for distribution kubeadm, not k3s/,
  },
  {
    why: "a drain timeout too short to drain anything",
    config: { ...base, rolloutDrainTimeout: 5 },
    key: "oci-k8s:rolloutDrainTimeout",
    says: /5 must be at least 10 seconds/,
  },
  {
    why: "a drain timeout as a duration string",
    config: { ...base, rolloutDrainTimeout: "10m" },
    key: "oci-k8s:rolloutDrainTimeout",
    says: /"10m" must be an integer, e.g. rolloutDrainTimeout: 600$/,
  },
  {
    why: "unknown shape",
    config: { ...base, nodes: [{ ...server, shape: "VM.Standard.E4.Flex" }] },
    key: "oci-k8s:nodes[0].shape",
    says: /"VM\.Standard\.E4\.Flex" allowed: VM\.Standard\.A1\.Flex, VM\.Standard\.E2\.1\.Micro/,
  },
  {
    why: "OCPUs over the shape's range",
    config: { ...base, nodes: [{ ...server, ocpus: 96 }] },
    key: "oci-k8s:nodes[0].ocpus",
    says: /96 must be a whole number from 1 to 80/,
  },
  {
    why: "fractional A1 OCPUs",
    config: { ...base, nodes: [{ ...server, ocpus: 1.5 }] },
    key: "oci-k8s:nodes[0].ocpus",
    says: /1\.5 must be a whole number/,
  },
  {
    why: "memory outside the per-OCPU range",
    config: { ...base, nodes: [{ ...server, ocpus: 1, memoryGb: 100 }] },
    key: "oci-k8s:nodes[0].memoryGb",
    says: /100 must be a whole number from 1 to 64 GB for 1 OCPU/,
  },
  {
    why: "sizing a fixed micro shape",
    config: { ...base, nodes: [server, micro("m", { ocpus: 1 })] },
    key: "oci-k8s:nodes[1].ocpus",
    says: /fixed size/,
  },
  {
    why: "boot volume under 50 GB",
    config: { ...base, nodes: [{ ...server, bootVolumeGb: 30 }] },
    key: "oci-k8s:nodes[0].bootVolumeGb",
    says: /30 must be at least 50 GB/,
  },
  {
    why: "data volume under 50 GB",
    config: { ...base, nodes: [{ ...server, dataVolumeGb: 20 }] },
    key: "oci-k8s:nodes[0].dataVolumeGb",
    says: /20 must be at least 50 GB/,
  },
  {
    why: "duplicate node names",
    config: { ...base, nodes: [server, { ...server, role: "agent" }] },
    key: "oci-k8s:nodes[1].name",
    says: /"server-1" is used by an earlier node/,
  },
  {
    why: "bad node role",
    config: { ...base, nodes: [{ ...server, role: "master" }] },
    key: "oci-k8s:nodes[0].role",
    says: /"master" allowed: server, agent/,
  },
  {
    why: "zero servers",
    config: { ...base, nodes: [{ ...server, role: "agent" }] },
    key: "oci-k8s:nodes",
    says: /at least one node with role: server/,
  },
  { why: "no nodes at all", config: { ...base, nodes: [] }, key: "oci-k8s:nodes", says: /at least one node/ },
  {
    why: "two servers (no etcd quorum gain)",
    config: { ...base, nodes: [server, { ...server, name: "server-2" }] },
    key: "oci-k8s:nodes",
    says: /"2 etcd members \(servers and etcd nodes\)" must have an odd number of etcd members/,
  },
  {
    why: "one server and one etcd-only member (two etcd members)",
    config: { ...base, nodes: [server, micro("e", { role: "etcd" })] },
    key: "oci-k8s:nodes",
    says: /"2 etcd members \(servers and etcd nodes\)"/,
  },
  {
    why: "an etcd-only member on kubeadm",
    config: {
      ...base,
      distribution: "kubeadm",
      nodes: [server, { ...server, name: "server-2" }, micro("e", { role: "etcd" })],
    },
    key: "oci-k8s:nodes[2].role",
    says: /needs k3s or rke2: kubeadm's stacked etcd/,
  },
  {
    why: "ingress on an etcd-only member",
    config: { ...base, nodes: [server, { ...server, name: "server-2" }, { ...server, name: "e", role: "etcd", ingress: true }] },
    key: "oci-k8s:nodes[2].ingress",
    says: /not allowed on an etcd-only node/,
  },
  {
    why: "only etcd-only members, no server",
    config: { ...base, nodes: [micro("e", { role: "etcd" })] },
    key: "oci-k8s:nodes",
    says: /at least one node with role: server/,
  },
  {
    why: "a micro control plane",
    config: { ...base, nodes: [server, micro("m", { role: "server" }), micro("n", { role: "server" })] },
    key: "oci-k8s:nodes[1].role",
    says: /cannot hold a control plane/,
  },
  {
    why: "ingress on a micro",
    config: { ...base, nodes: [server, micro("m", { ingress: true })] },
    key: "oci-k8s:nodes[1].ingress",
    says: /micro nodes are tainted/,
  },
  {
    why: "no ingress node",
    config: { ...base, nodes: [{ ...server, ingress: false }] },
    key: "oci-k8s:nodes",
    says: /takes ingress traffic/,
  },
  {
    why: "private node without NAT",
    config: { ...base, nodes: [{ ...server, subnet: "private" }] },
    key: "oci-k8s:nodes[0].subnet",
    says: /"private" needs natGateway: true/,
  },
  {
    why: "NAT without a jump host",
    config: { ...base, tier: "payg", natGateway: true },
    key: "oci-k8s:nodes",
    says: /subnet: public to serve as the SSH jump host/,
  },
  {
    why: "bad node name",
    config: { ...base, nodes: [{ ...server, name: "Server_1" }] },
    key: "oci-k8s:nodes[0].name",
    says: /"Server_1" must be a lowercase DNS label/,
  },
  {
    why: "unknown node field",
    config: { ...base, nodes: [{ ...server, cpus: 2 }] },
    key: "oci-k8s:nodes[0]",
    says: /\["cpus"\] are not node fields; allowed: name, role/,
  },
  {
    why: "AD number out of range",
    config: { ...base, nodes: [{ ...server, availabilityDomain: 4 }] },
    key: "oci-k8s:nodes[0].availabilityDomain",
    says: /4 must be an availability domain number 1-3/,
  },
  {
    why: "image that is not an OCID",
    config: { ...base, nodes: [{ ...server, imageId: "ubuntu-24.04" }] },
    key: "oci-k8s:nodes[0].imageId",
    says: /"ubuntu-24\.04" must be an image OCID/,
  },
  {
    why: "repeated spread AD",
    config: { ...base, availabilityDomains: [1, 1] },
    key: "oci-k8s:availabilityDomains",
    says: /must not repeat/,
  },
  {
    why: "SSH key that is not OpenSSH",
    config: { ...base, sshPublicKey: "-----BEGIN PUBLIC KEY-----" },
    key: "oci-k8s:sshPublicKey",
    says: /must be an OpenSSH public key line/,
  },
  {
    why: "cluster name that is not a DNS label",
    config: { ...base, clusterName: "My Cluster" },
    key: "oci-k8s:clusterName",
    says: /"My Cluster" must be a lowercase DNS label/,
  },
  {
    why: "cluster domain that is not a DNS name",
    config: { ...base, clusterDomain: "https://example.com" },
    key: "oci-k8s:clusterDomain",
    says: /must be a DNS name/,
  },
  {
    why: "a typo'd key",
    config: { ...base, natgateway: true },
    key: "oci-k8s:natgateway",
    says: /is not a key of this program; did you mean natGateway\? allowed: compartmentId/,
  },
  {
    why: "a boolean that is not one",
    config: { ...base, natGateway: "yes" },
    key: "oci-k8s:natGateway",
    says: /"yes" must be true or false/,
  },
  {
    why: "an unknown addon",
    config: { ...base, addons: ["kube-dashboard"] },
    key: "oci-k8s:addons[0]",
    says: /"kube-dashboard" is not an addon; allowed: external-dns/,
  },
  {
    why: "an addon listed twice",
    config: { ...base, addons: ["kured", "kured"] },
    key: "oci-k8s:addons[1]",
    says: /"kured" is listed twice/,
  },
  {
    why: "a choice listed as an addon",
    config: { ...base, addons: ["longhorn"] },
    key: "oci-k8s:addons[0]",
    says: /"longhorn" is a base choice, not an addon: set storage: longhorn instead/,
  },
  {
    why: "an unknown ingress controller",
    config: { ...base, ingressController: "haproxy" },
    key: "oci-k8s:ingressController",
    says: /"haproxy" allowed: traefik, ingress-nginx/,
  },
  {
    why: "longhorn without two data volumes",
    config: { ...base, storage: "longhorn" },
    key: "oci-k8s:storage",
    says: /needs data volumes on two or more nodes .*this stack has 1/,
  },
  {
    why: "values for a component that is not enabled",
    config: { ...base, componentValues: { vault: { server: {} } } },
    key: "oci-k8s:componentValues.vault",
    says: /which this stack does not enable/,
  },
  {
    why: "values for no component at all",
    config: { ...base, componentValues: { grafana: {} } },
    key: "oci-k8s:componentValues.grafana",
    says: /names no component of the catalog/,
  },
  {
    why: "an addon without its required values",
    config: { ...base, addons: ["external-dns"] },
    key: "oci-k8s:componentValues.external-dns.provider.name",
    says: /must be set to enable external-dns/,
  },
  {
    why: "a GitOps credential without a repository",
    config: { ...base, gitopsRepoCredential: "token" },
    key: "oci-k8s:gitopsRepoCredential",
    says: /goes with gitopsRepoUrl/,
  },
  {
    why: "a GitOps URL that is not git",
    config: { ...base, gitopsRepoUrl: "ftp://example.com/repo" },
    key: "oci-k8s:gitopsRepoUrl",
    says: /must be an https:\/\/, ssh:\/\/ or git@ repository URL/,
  },
  {
    why: "an ACME email that is not one",
    config: { ...base, acmeEmail: "admin" },
    key: "oci-k8s:acmeEmail",
    says: /"admin" must be an email address/,
  },
  {
    why: "over the always-free A1 allowance",
    config: { ...base, nodes: [{ ...server, ocpus: 4, memoryGb: 24 }] },
    key: "Ampere A1 OCPUs",
    says: /4 OCPU +2 OCPU +2 OCPU/,
  },
  {
    why: "over the block storage allowance",
    config: { ...base, nodes: [{ ...server, bootVolumeGb: 100, dataVolumeGb: 150 }] },
    key: "Block storage",
    says: /250 GB +200 GB +50 GB/,
  },
];
