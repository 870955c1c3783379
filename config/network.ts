/** Network and access: the VCN and its subnets, who may reach SSH and the API, and the SSH key. */
import { z } from "zod";
import { Cidr, cidrContains, cidrsOverlap, parseCidr, WIDEST_ADMIN_PREFIX } from "../infra/cidr";
import { DISTRIBUTIONS } from "../k8s/bootstrap/distributions";
import { ClusterValues } from "./cluster";
import { Bad, bool, secret, str, Values } from "./keys";
import { TenancyValues } from "./tenancy";

const AD_MESSAGE = "must be an availability domain number 1-3 or a full name like Uocm:EU-FRANKFURT-1-AD-1";
export const AD_NAME = /^[A-Za-z0-9]+:[A-Z0-9-]+-AD-[1-3]$/;
export const adNumber = () => z.int({ error: AD_MESSAGE }).min(1, AD_MESSAGE).max(3, AD_MESSAGE);
export const adName = () => z.union([adNumber(), z.string().regex(AD_NAME, AD_MESSAGE)], { error: AD_MESSAGE });

export const NETWORK_KEYS = {
  adminCidrs: {
    schema: z.array(z.string(), { error: "must be a list of CIDRs" }).min(1, "must name at least one CIDR"),
    type: "array" as const,
    items: "string" as const,
    description:
      "CIDRs allowed to reach SSH (22) and the Kubernetes API (6443), e.g. your address as x.x.x.x/32 (curl -s https://checkip.amazonaws.com prints it); the documentation ranges of RFC 5737 (the examples' placeholders) are refused.",
  },
  allowWorldAdminAccess: bool(
    false,
    `Explicit opt-in to let adminCidrs hold ranges wider than /${WIDEST_ADMIN_PREFIX}, 0.0.0.0/0 included (SSH and the cluster's ports open to the internet).`,
  ),
  vcnCidr: str(
    z.string().default("10.0.0.0/16"),
    "IPv4 range of the VCN, /16 to /30; must not overlap the cluster's pod and service networks.",
  ),
  publicSubnetCidr: str(
    z.string().default("10.0.0.0/24"),
    "Range of the public subnet (load balancer, public nodes), inside vcnCidr.",
  ),
  privateSubnetCidr: str(z.string().default("10.0.1.0/24"), "Range of the private subnet for nodes, used when natGateway is on."),
  natGateway: bool(false, "Create a NAT gateway and put nodes in a private subnet (payg only: Always Free has no NAT)."),
  availabilityDomains: {
    schema: z.array(adNumber(), { error: "must be a list of availability domain numbers 1-3" }).default([]),
    type: "array" as const,
    items: "integer" as const,
    description: "Availability domain numbers to spread nodes over, in order; empty means every AD of the region.",
  },
  sshPublicKey: str(
    z
      .string()
      .regex(
        /^((ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?)?$/,
        "must be an OpenSSH public key line",
      )
      .default(""),
    "OpenSSH public key for the ubuntu user; empty means one is generated and its private key is a secret output.",
  ),
  sshPrivateKey: secret(
    z
      .string()
      .regex(
        // OpenSSH, PKCS#1 (RSA), SEC1 (EC) and PKCS#8 (plain or encrypted), with matching END lines.
        /^(-----BEGIN ((OPENSSH|RSA|EC|ENCRYPTED) )?PRIVATE KEY-----\n[\s\S]+\n-----END \2PRIVATE KEY-----\s*)?$/,
        "must be a PEM or OpenSSH private key (BEGIN OPENSSH, RSA, EC, or PKCS#8 PRIVATE KEY / ENCRYPTED PRIVATE KEY)",
      )
      .default(""),
    "Private key matching sshPublicKey (set it with --secret); empty means the SSH agent (SSH_AUTH_SOCK) holds it.",
  ),
};

export type NetworkValues = Values<typeof NETWORK_KEYS>;

export function checkNetwork(c: NetworkValues & TenancyValues & ClusterValues & { hosts?: unknown }, bad: Bad): void {
  if (c.tier === "always-free" && c.natGateway) {
    bad(
      "natGateway",
      true,
      "is not available on an always-free tenancy (NAT gateway limit 0); set tier: payg or natGateway: false",
    );
  }
  checkAdminCidrs(c, bad);
  checkRanges(c, bad);
  // The key pair is an Oracle stack's (the public key goes onto the instances); a hosts stack uses the private key alone.
  if (c.sshPrivateKey && !c.sshPublicKey && c.hosts === undefined) {
    bad("sshPrivateKey", "[secret]", "goes with sshPublicKey; set both, or neither to have a key generated");
  }
  if (new Set(c.availabilityDomains).size !== c.availabilityDomains.length) {
    bad("availabilityDomains", c.availabilityDomains, "must not repeat an availability domain");
  }
}

function checkAdminCidrs(c: NetworkValues, bad: Bad): void {
  c.adminCidrs.forEach((text, i) => {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") bad(`adminCidrs[${i}]`, text, parsed);
    else if (parsed.prefix < WIDEST_ADMIN_PREFIX && !c.allowWorldAdminAccess) {
      bad(
        `adminCidrs[${i}]`,
        text,
        `is wider than /${WIDEST_ADMIN_PREFIX}: it opens SSH and the Kubernetes API to a large part of the internet; use your own address/32 or your network (at most /${WIDEST_ADMIN_PREFIX}), or set allowWorldAdminAccess: true`,
      );
    }
  });
}

/** The VCN and subnets: well-formed, nested, apart from each other and from the cluster's own networks. */
function checkRanges(c: NetworkValues & ClusterValues, bad: Bad): void {
  const vcn = parseCidr(c.vcnCidr);
  if (typeof vcn === "string") bad("vcnCidr", c.vcnCidr, vcn);
  else if (vcn.prefix < 16 || vcn.prefix > 30) bad("vcnCidr", c.vcnCidr, "must be a /16 to /30 network (Oracle's VCN limits)");
  const subnets: [string, string][] = [
    ["publicSubnetCidr", c.publicSubnetCidr],
    ["privateSubnetCidr", c.privateSubnetCidr],
  ];
  const parsedSubnets = subnets.map(([key, text]) => {
    const parsed = parseCidr(text);
    if (typeof parsed === "string") bad(key, text, parsed);
    else if (typeof vcn !== "string" && !cidrContains(vcn, parsed)) bad(key, text, `must lie inside vcnCidr ${c.vcnCidr}`);
    else if (parsed.prefix > 30) bad(key, text, "must be /30 or larger");
    return typeof parsed === "string" ? undefined : parsed;
  });
  const dist = DISTRIBUTIONS[c.distribution];
  if (typeof vcn !== "string") {
    for (const [what, cidr] of [
      ["pod", dist.podCidr],
      ["service", dist.serviceCidr],
    ]) {
      if (cidrsOverlap(vcn, parseCidr(cidr) as Cidr)) {
        bad("vcnCidr", c.vcnCidr, `overlaps ${c.distribution}'s ${what} network ${cidr}; choose another range`);
      }
    }
  }
  if (parsedSubnets[0] && parsedSubnets[1] && cidrsOverlap(parsedSubnets[0], parsedSubnets[1])) {
    bad("privateSubnetCidr", c.privateSubnetCidr, `must not overlap publicSubnetCidr ${c.publicSubnetCidr}`);
  }
}

export function resolveNetwork(c: NetworkValues) {
  return {
    adminCidrs: c.adminCidrs,
    vcnCidr: c.vcnCidr,
    publicSubnetCidr: c.publicSubnetCidr,
    privateSubnetCidr: c.privateSubnetCidr,
    natGateway: c.natGateway,
    availabilityDomains: c.availabilityDomains,
    sshPublicKey: c.sshPublicKey || undefined,
    sshPrivateKey: c.sshPrivateKey || undefined,
  };
}
