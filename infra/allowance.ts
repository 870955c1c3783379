/**
 * Oracle Cloud's free allowance per tenancy and the list prices of what lies beyond it, as data.
 * One line per resource, each saying where its numbers come from; a reviewer changes a number
 * here when Oracle changes its offer (see shared/reference/oci-facts.md).
 *
 * The free part is the same for every tenancy. What a Pay-As-You-Go tenancy adds is what may
 * exist beyond it (billed at list prices), and a NAT gateway; an Always Free tenancy refuses
 * anything beyond its limits (400 LimitExceeded).
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

/** The longest month: a cost estimate for 744 hours is never below a real month's bill. */
export const HOURS_PER_MONTH = 744;

export interface Price {
  /** US dollars per unit of the line for one month, beyond the free part. */
  readonly usdPerUnitMonth: number;
  /** Free units a month, when Oracle counts the free part in unit-hours (A1): the first N are free. */
  readonly freeUnitHours?: number;
  /** Where the price comes from, and when it was read. */
  readonly source: string;
}

export interface AllowanceLine {
  /** What the line counts, as a person reads it. */
  readonly label: string;
  /** Unit printed after the numbers. */
  readonly unit: string;
  /** Free quantity per tier. */
  readonly free: Readonly<Record<Tier, number>>;
  /** The most that may exist on the tier; beyond `free` and up to this it is billed at `price`. */
  readonly limit: Readonly<Record<Tier, number>>;
  /** The list price of what lies beyond the free part (payg); absent when it costs nothing. */
  readonly price?: Price;
  /** Where the free quantity comes from. */
  readonly source: string;
}

const FREE_TIER_PAGE = "Oracle Cloud Free Tier page, as changed June 2026";
const COMPUTE_PRICES = "oracle.com/cloud/compute/pricing, read 2026-11-22";

export const ALLOWANCE: Readonly<Record<ResourceKey, AllowanceLine>> = {
  a1Ocpus: {
    label: "Ampere A1 OCPUs",
    unit: "OCPU",
    // 1,500 OCPU-hours a month: 2 OCPUs running all month (2 x 744 = 1,488).
    free: { "always-free": 2, payg: 2 },
    limit: { "always-free": 2, payg: Infinity },
    price: { usdPerUnitMonth: 0.01 * HOURS_PER_MONTH, freeUnitHours: 1500, source: `${COMPUTE_PRICES}: $0.01 per OCPU-hour` },
    source: `${FREE_TIER_PAGE}: "All tenancies get the first 1,500 OCPU hours ... per month for free"`,
  },
  a1MemoryGb: {
    label: "Ampere A1 memory",
    unit: "GB",
    // 9,000 GB-hours a month: 12 GB all month (12 x 744 = 8,928).
    free: { "always-free": 12, payg: 12 },
    limit: { "always-free": 12, payg: Infinity },
    price: { usdPerUnitMonth: 0.0015 * HOURS_PER_MONTH, freeUnitHours: 9000, source: `${COMPUTE_PRICES}: $0.0015 per GB-hour` },
    source: `${FREE_TIER_PAGE}: "... and 9,000 GB hours per month for free"`,
  },
  microInstances: {
    label: "E2.1.Micro instances",
    unit: "",
    // The shape exists only as Always Free: a third one cannot be bought on any tenancy.
    free: { "always-free": 2, payg: 2 },
    limit: { "always-free": 2, payg: 2 },
    source: `${FREE_TIER_PAGE}: two VM.Standard.E2.1.Micro instances`,
  },
  blockStorageGb: {
    label: "Block storage (boot + data)",
    unit: "GB",
    free: { "always-free": 200, payg: 200 },
    limit: { "always-free": 200, payg: Infinity },
    price: {
      // Balanced volumes (the default, 10 VPUs/GB): storage plus performance units.
      usdPerUnitMonth: 0.0255 + 0.017,
      source:
        "oracle.com/cloud/storage/block-volumes/pricing, read 2026-11-22: $0.017 per GB-month for 10 VPUs (Balanced) plus $0.0255 per GB-month of storage (Oracle's price list; the stored copy read showed only the VPU figure)",
    },
    source: `${FREE_TIER_PAGE}: 200 GB of block volume storage, boot volumes included`,
  },
  networkLoadBalancers: {
    label: "Network load balancers",
    unit: "",
    free: { "always-free": 1, payg: 1 },
    // Oracle charges nothing for network load balancers; PAYG may have more than one.
    limit: { "always-free": 1, payg: Infinity },
    source: `${FREE_TIER_PAGE}: one Network Load Balancer; on Pay-As-You-Go they carry no charge`,
  },
  flexibleLoadBalancers: {
    label: "Flexible load balancers (10 Mbps)",
    unit: "",
    free: { "always-free": 1, payg: 1 },
    limit: { "always-free": 1, payg: Infinity },
    price: {
      // Base hour plus 10 Mbps of bandwidth, the smallest shape.
      usdPerUnitMonth: (0.0113 + 10 * 0.0001) * HOURS_PER_MONTH,
      source:
        "oracle.com/cloud/networking/pricing: $0.0113 per load balancer-hour plus $0.0001 per Mbps-hour (not re-read 2026-11-22; the program creates no flexible load balancer)",
    },
    source: `${FREE_TIER_PAGE}: one flexible Load Balancer at 10 Mbps`,
  },
  // An Always Free tenancy has a NAT gateway limit of 0; a PAYG tenancy's costs nothing.
  natGateways: {
    label: "NAT gateways",
    unit: "",
    free: { "always-free": 0, payg: 1 },
    limit: { "always-free": 0, payg: 1 },
    source: "Oracle's service limits: NAT gateways 0 on Always Free; no charge on Pay-As-You-Go",
  },
  vcns: {
    label: "VCNs",
    unit: "",
    free: { "always-free": 2, payg: 50 },
    limit: { "always-free": 2, payg: 50 },
    source: "Oracle's service limits: 2 VCNs on Always Free, 50 on Pay-As-You-Go; VCNs cost nothing",
  },
};

/**
 * Outbound data beyond the free 10 TB a month is billed too; no plan can know the traffic, so the
 * estimate leaves it out and says so.
 */
export const EGRESS_PRICE: Price = {
  usdPerUnitMonth: 0.0085,
  source: "oracle.com/cloud/networking/pricing: $0.0085 per GB beyond the free 10 TB a month (not re-read 2026-11-22)",
};

export const RESOURCE_KEYS = Object.keys(ALLOWANCE) as ResourceKey[];

/** The monthly list price of `used` units of a line beyond its free part, in US dollars (0 when free). */
export function monthlyCost(line: AllowanceLine, tier: Tier, used: number): number {
  if (!line.price) return 0;
  const billed = line.price.freeUnitHours
    ? Math.max(0, used * HOURS_PER_MONTH - line.price.freeUnitHours) / HOURS_PER_MONTH
    : Math.max(0, used - line.free[tier]);
  return Math.round(billed * line.price.usdPerUnitMonth * 100) / 100;
}
