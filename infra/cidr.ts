/** Small IPv4 CIDR helpers for config validation (no address is ever contacted). */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
  readonly text: string;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses "a.b.c.d/n"; returns a reason instead when the text is not a canonical network. */
export function parseCidr(text: string): Cidr | string {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return "is not an IPv4 CIDR like 10.0.0.0/16";
  const address = parseIpv4(match[1]);
  const prefix = Number(match[2]);
  if (address === undefined || prefix > 32) return "is not an IPv4 CIDR like 10.0.0.0/16";
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network !== address) return `has host bits set; the network is ${formatIpv4(network)}/${prefix}`;
  return { network, prefix, text };
}

/** The highest address of a network Oracle lets a resource take (it keeps the last one for itself). */
export function lastUsableAddress(c: Cidr): string {
  return formatIpv4(c.network + cidrSize(c) - 2);
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** True when every address of `inner` lies in `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefix >= outer.prefix &&
    inner.network >= outer.network &&
    inner.network + cidrSize(inner) <= outer.network + cidrSize(outer)
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

export const WORLD = "0.0.0.0/0";

/**
 * The widest source an admin port may be opened to: a /16 (65,536 addresses) covers an office or
 * a VPN range. Anything wider, split or not (0.0.0.0/1 + 128.0.0.0/1 is the whole internet too),
 * is the internet for this purpose.
 */
export const WIDEST_ADMIN_PREFIX = 16;
