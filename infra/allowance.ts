/**
 * Oracle Cloud's free allowance per tenancy, as data. One line per resource; a reviewer
 * changes a number here when Oracle changes its offer (see shared/reference/oci-facts.md).
 */

export type Tier = "always-free" | "payg";
export const TIERS = ["always-free", "payg"] as const;

export type ResourceKey =
  | "a1Ocpus"
  | "a1MemoryGb"
  | "microInstances"
  | "blockStorageGb"
  | "networkLoadBalancers"
  | "flexibleLoadBalancers"
  | "natGateways"
  | "vcns";

export interface AllowanceLine {
  /** What the line counts, as a person reads it. */
  readonly label: string;
  /** Unit printed after the numbers. */
  readonly unit: string;
  /** Free quantity per tier. */
  readonly free: Readonly<Record<Tier, number>>;
}

export const ALLOWANCE: Readonly<Record<ResourceKey, AllowanceLine>> = {
  a1Ocpus: { label: "Ampere A1 OCPUs", unit: "OCPU", free: { "always-free": 2, payg: 4 } },
  a1MemoryGb: { label: "Ampere A1 memory", unit: "GB", free: { "always-free": 12, payg: 24 } },
  microInstances: { label: "E2.1.Micro instances", unit: "", free: { "always-free": 2, payg: 2 } },
  blockStorageGb: {
    label: "Block storage (boot + data)",
    unit: "GB",
    free: { "always-free": 200, payg: 200 },
  },
  networkLoadBalancers: { label: "Network load balancers", unit: "", free: { "always-free": 1, payg: 1 } },
  flexibleLoadBalancers: {
    label: "Flexible load balancers (10 Mbps)",
    unit: "",
    free: { "always-free": 1, payg: 1 },
  },
  // An Always Free tenancy has a NAT gateway limit of 0: it cannot be bought there at all.
  natGateways: { label: "NAT gateways", unit: "", free: { "always-free": 0, payg: 1 } },
  vcns: { label: "VCNs", unit: "", free: { "always-free": 2, payg: 50 } },
};

export const RESOURCE_KEYS = Object.keys(ALLOWANCE) as ResourceKey[];
