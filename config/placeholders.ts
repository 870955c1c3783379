/**
 * The shipped examples' placeholders: RFC 5737's documentation addresses in adminCidrs, the
 * hosts' SSH addresses and jumpHost, the example stacks' compartment OCID, and an alertEmail at a
 * domain reserved for examples (RFC 2606), where the budget's first-cent alert would reach no one. A stack still holding one would
 * build a VCN, instances and a load balancer and then wait for SSH that can never come, so
 * `pulumi preview` and `pulumi up` refuse them, naming what to put there. The offline plan (mock
 * runtime: nothing is created) renders the stack anyway and lists them as "edit before pulumi up".
 */
import { cidrContains, parseCidr, parseIpv4 } from "../infra/cidr";
import { ConfigProblem, PROJECT } from "./keys";

/** RFC 5737 section 3: TEST-NET-1, -2 and -3, "for use in documentation". No machine of the user's has one. */
export const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"] as const;

/** The compartment OCIDs the shipped stack files and examples hold contain this word; a real OCID does not. */
const EXAMPLE_OCID = /^ocid1\.(compartment|tenancy)\.oc\d+\.\..*example/;

const ADMIN_HINT =
  "put your own public address there as x.x.x.x/32 (curl -s https://checkip.amazonaws.com prints it), or your office's range";
const COMPARTMENT_HINT =
  "put your compartment's OCID there (Console: Identity & Security > Compartments; or oci iam compartment list --all), or the tenancy OCID for the root compartment";

/**
 * RFC 2606: example.com, .net and .org (section 3) and the TLDs .example, .test, .invalid and
 * .localhost (section 2) are reserved for documentation and tests; no mailbox there is anyone's.
 */
const EXAMPLE_MAIL_DOMAIN = /@(?:[^@]*\.)?(?:example\.(?:com|net|org)|example|test|invalid|localhost)$/i;
const MAIL_HINT =
  "put an address whose mailbox someone reads there: Oracle mails the budget's alert to it at the first cent billed";

/** The documentation range a CIDR or address lies in, if any. */
function documentationRange(text: string): string | undefined {
  const cidr = parseCidr(text.includes("/") ? text : `${text}/32`);
  if (typeof cidr === "string") return undefined;
  return DOCUMENTATION_RANGES.find((range) => cidrContains(parseCidr(range) as never, cidr));
}

const documentation = (range: string, hint: string) =>
  `is a documentation address (RFC 5737, ${range}), the example's placeholder and no address of yours: ${hint}`;

/**
 * The placeholders a stack's raw values still hold, one problem each (key, value, what to put
 * there). Values of the wrong form are left to their keys' own checks.
 */
export function placeholderProblems(raw: Readonly<Record<string, unknown>>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (key: string, value: unknown, message: string) => problems.push({ key: `${PROJECT}:${key}`, value, message });
  if (typeof raw.compartmentId === "string" && EXAMPLE_OCID.test(raw.compartmentId))
    add("compartmentId", raw.compartmentId, `is the example stack's placeholder: ${COMPARTMENT_HINT}`);
  if (Array.isArray(raw.adminCidrs)) {
    raw.adminCidrs.forEach((cidr, i) => {
      const range = typeof cidr === "string" ? documentationRange(cidr) : undefined;
      if (range) add(`adminCidrs[${i}]`, cidr, documentation(range, ADMIN_HINT));
    });
  }
  if (Array.isArray(raw.hosts)) {
    raw.hosts.forEach((host, i) => {
      // Only the address SSH goes to: privateIp is on the hosts' own network, which may be numbered anyhow.
      const value = (host as Record<string, unknown> | null)?.address;
      const range = typeof value === "string" && parseIpv4(value) !== undefined ? documentationRange(value) : undefined;
      if (range) add(`hosts[${i}].address`, value, documentation(range, "put the address you reach the host at over SSH there"));
    });
  }
  if (typeof raw.alertEmail === "string" && EXAMPLE_MAIL_DOMAIN.test(raw.alertEmail.trim()))
    add("alertEmail", raw.alertEmail, `is at a domain reserved for examples (RFC 2606): ${MAIL_HINT}`);
  const jump = raw.jumpHost;
  const jumpRange = typeof jump === "string" && parseIpv4(jump) !== undefined ? documentationRange(jump) : undefined;
  if (jumpRange) add("jumpHost", jump, documentation(jumpRange, "put your bastion's address there"));
  return problems;
}

let offlinePlan = false;

/**
 * Only for the offline plan's mock runtime, which creates nothing: placeholders are then logged as
 * "edit before pulumi up" instead of refused. Nothing under the Pulumi CLI calls this.
 */
export function reportPlaceholdersOffline(on: boolean): void {
  offlinePlan = on;
}

/** Whether this run only reports placeholders (the offline plan) rather than refusing them. */
export function placeholdersReportedOnly(): boolean {
  return offlinePlan;
}

/** One block naming every placeholder: what the offline plan prints and logs. */
export function formatPlaceholders(problems: readonly ConfigProblem[], file: string): string {
  return [
    `PLACEHOLDERS: edit ${file} before pulumi up (pulumi preview and pulumi up refuse these values):`,
    ...problems.map((p) => `  ${p.key} = ${String(p.value)}: ${p.message}`),
  ].join("\n");
}
