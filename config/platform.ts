/** The platform: the base components picked among alternatives, the addons, their values. */
import { z } from "zod";
import { ADDON_NAMES, CATALOG, catalogEntry, choicesOf, DEFAULT_CHOICES } from "../k8s/platform/catalog";
import { allowed, Bad, str, Values, valueAt } from "./keys";

const choice = (of: "ingress" | "storage" | "monitoring", description: string) =>
  str(
    z.enum(choicesOf(of) as [string, ...string[]], { error: allowed(choicesOf(of)) }).default(DEFAULT_CHOICES[of]),
    description,
  );

export const PLATFORM_KEYS = {
  ingressController: choice(
    "ingress",
    "Ingress controller on host ports 80/443 behind the load balancer: traefik, or ingress-nginx for those who need it.",
  ),
  storage: choice(
    "storage",
    "Default StorageClass: local-path (node-local, on the data volume) or longhorn (replicated; needs data volumes on 2+ nodes).",
  ),
  monitoring: choice("monitoring", "Monitoring stack: kube-prometheus-stack, or the lighter victoria-metrics-k8s-stack."),
  addons: {
    schema: z.array(z.string(), { error: "must be a list of addon names" }).default([]),
    type: "array" as const,
    items: "string" as const,
    description: `Addons to install, by name: ${ADDON_NAMES.join(", ")}.`,
  },
  componentValues: {
    schema: z
      .record(z.string(), z.record(z.string(), z.unknown()), { error: "must map component names to Helm values" })
      .default({}),
    type: "object" as const,
    description: "Helm values per component, merged over the catalog's defaults: {traefik: {...}, external-dns: {...}}.",
  },
  acmeEmail: str(
    z
      .string()
      .regex(/^([^@\s]+@[^@\s]+\.[a-z]{2,})?$/, "must be an email address, or empty")
      .default(""),
    "Contact address given to Let's Encrypt (optional).",
  ),
};

export type PlatformValues = Values<typeof PLATFORM_KEYS>;

/** The key that picks each group's choice (`addons: [longhorn]` means `storage: longhorn`). */
export const CHOICE_KEYS = [
  ["ingress", "ingressController"],
  ["storage", "storage"],
  ["monitoring", "monitoring"],
] as const;

/** Every base component except the choices not taken, then the addons. */
function enabledComponents(c: PlatformValues): string[] {
  const picked = new Set([c.ingressController, c.storage, c.monitoring]);
  const base = CATALOG.filter((e) => e.layer === "base" && (!e.choice || picked.has(e.name))).map((e) => e.name);
  return [...base, ...c.addons];
}

export function checkPlatform(c: PlatformValues & { dataDisks: number; onHosts?: boolean }, bad: Bad): void {
  const seen = new Set<string>();
  c.addons.forEach((name, i) => {
    const choiceKey = CHOICE_KEYS.find(([of]) => choicesOf(of).includes(name))?.[1];
    if (choiceKey) bad(`addons[${i}]`, name, `is a base choice, not an addon: set ${choiceKey}: ${name} instead`);
    else if (!ADDON_NAMES.includes(name)) bad(`addons[${i}]`, name, `is not an addon; ${allowed(ADDON_NAMES)}`);
    else if (seen.has(name)) bad(`addons[${i}]`, name, "is listed twice");
    seen.add(name);
  });
  for (const [name, values] of Object.entries(c.componentValues)) plainCredentials(name, values, bad);
  const enabled = new Set(enabledComponents(c));
  for (const [name, values] of Object.entries(c.componentValues)) {
    if (!catalogEntry(name)) bad(`componentValues.${name}`, Object.keys(values), "names no component of the catalog");
    else if (!enabled.has(name))
      bad(`componentValues.${name}`, Object.keys(values), `sets values of ${name}, which this stack does not enable`);
  }
  for (const name of enabled) {
    const entry = catalogEntry(name);
    let missing = false;
    for (const path of entry?.requiredValues ?? []) {
      const value = valueAt(c.componentValues[name], path.split("."));
      if (value === undefined || value === "") {
        bad(`componentValues.${name}.${path}`, value, `must be set to enable ${name}`);
        missing = true;
      }
    }
    if (entry?.settings && !missing) checkSettings(name, entry.settings, c.componentValues[name] ?? {}, bad);
  }
  if (c.storage === "longhorn" && c.dataDisks < 2) {
    bad(
      "storage",
      c.storage,
      `needs data volumes on two or more nodes to replicate (this stack has ${c.dataDisks}); use local-path`,
    );
  }
  if (c.onHosts && enabled.has("rook-ceph") && c.dataDisks < 3) {
    bad(
      "addons",
      "rook-ceph",
      `needs a raw data disk on three or more machines for Ceph's three replicas (this stack has ${c.dataDisks})`,
    );
  }
}

/** Value keys that hold a credential itself (compared lower-case, without - _ .), not a Secret's name or key. */
const CREDENTIAL_KEY =
  /(password|passwd|passphrase|clientsecret|secretaccesskey|accountkey|apikey|apitoken|authtoken|token|privatekey)$|^secret$/;
/** A value that refers to a credential instead of holding it: $VAR, ${VAR}, $__env{VAR}, $__file{...}, Argo CD's $key. */
const REFERENCE = /^\$/;

/**
 * A credential written in plain text into componentValues (the stack file, the release's history):
 * refused, pointing to a Secret the chart reads by name. The value itself is never printed.
 */
function plainCredentials(component: string, values: unknown, bad: Bad, path: string[] = []): void {
  if (!values || typeof values !== "object") return;
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    const at = [...path, key];
    // valueFrom / secretKeyRef name a Secret: nothing below them is a credential.
    if (key === "valueFrom" || key === "secretKeyRef") continue;
    const normalized = key.toLowerCase().replace(/[-_.]/g, "");
    if (typeof value === "string" && value !== "" && CREDENTIAL_KEY.test(normalized) && !REFERENCE.test(value)) {
      const grafana = /adminpassword$/.test(normalized) && at.includes("grafana");
      bad(
        `componentValues.${component}.${at.join(".")}`,
        "[plain text]",
        grafana
          ? "is Grafana's admin password in plain text: the program makes it (pulumi stack output grafanaAdminPassword --show-secrets); leave it out"
          : "is a credential in plain text in the stack file: put it in a Kubernetes Secret (a SealedSecret in the GitOps repository) and name that Secret in the chart's values (existingSecret, envFromSecret, valueFrom.secretKeyRef) or reference it ($VAR, $__env{VAR})",
      );
    } else plainCredentials(component, value, bad, at);
  }
}

/** The program's own settings of a component (beside its Helm values), against the component's schema. */
function checkSettings(name: string, schema: z.ZodObject, values: Record<string, unknown>, bad: Bad): void {
  const own = Object.fromEntries(Object.entries(values).filter(([k]) => k in schema.shape));
  const result = schema.safeParse(own);
  if (result.success) return;
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    bad(`componentValues.${name}.${path.join(".")}`, valueAt(own, path), issue.message);
  }
}

export function resolvePlatform(c: PlatformValues) {
  return {
    /** Enabled platform components, by catalog name: the choices, then the addons. */
    components: enabledComponents(c) as readonly string[],
    componentValues: c.componentValues as Readonly<Record<string, Record<string, unknown>>>,
    acmeEmail: c.acmeEmail,
  };
}
