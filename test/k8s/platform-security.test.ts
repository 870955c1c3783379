/**
 * Nothing public without a lock: every UI or API the ingress serves is locked (a credential the
 * program makes, SSO, or an allow-list), none keeps a chart's default credential, Grafana's
 * client secret stays out of its values (the grafana chart refuses it there), and every namespace
 * enforces the strictest PodSecurity level its workloads pass.
 */
import { strict as assert } from "assert";
import { CATALOG, catalogEntry, CatalogEntry } from "../../k8s/platform/catalog";
import { MOCK_BCRYPT, MOCK_TOKEN, named, ofType, Registered, RunResult, stackConfig } from "../../scripts/mock-program";
import { valueAt } from "../../config/keys";
import { dependsOn, EVERY_ADDON, OTHER_CHOICES, releases, run } from "./platform.fixtures";

const SECRET = "kubernetes:core/v1:Secret";
const NAMESPACE = "kubernetes:core/v1:Namespace";

/** Every path in `values` at which an object's key is `key`, with that object's value. */
function findKey(values: unknown, key: string, path: string[] = []): { path: string[]; value: unknown }[] {
  if (!values || typeof values !== "object") return [];
  return Object.entries(values as Record<string, unknown>).flatMap(([k, v]) => [
    ...(k === key ? [{ path: [...path, k], value: v }] : []),
    ...findKey(v, key, [...path, k]),
  ]);
}

/** Ingresses a chart's values turn on: any `ingress` object with `enabled: true`. */
const enabledIngresses = (values: unknown) =>
  findKey(values, "ingress").filter((i) => (i.value as { enabled?: unknown } | undefined)?.enabled === true);

/**
 * The grafana chart's rule, templates/_helpers.tpl "grafana.assertNoLeakedSecrets" (grafana
 * 12.11.1, which kube-prometheus-stack 88.5.3 depends on, and 12.7.3, victoria-metrics-k8s-stack
 * 0.91.2's): each of these grafana.ini keys, when set, must match the variable-expansion regex, or
 * the chart fails: "Sensitive key '...' should not be defined explicitly in values."
 */
const GRAFANA_SENSITIVE_KEYS = [
  ["database", "password"],
  ["smtp", "password"],
  ["security", "secret_key"],
  ["security", "admin_password"],
  ["auth.basic", "password"],
  ["auth.ldap", "bind_password"],
  ["auth.google", "client_secret"],
  ["auth.github", "client_secret"],
  ["auth.gitlab", "client_secret"],
  ["auth.generic_oauth", "client_secret"],
  ["auth.okta", "client_secret"],
  ["auth.azuread", "client_secret"],
  ["auth.grafana_com", "client_secret"],
  ["auth.grafananet", "client_secret"],
  ["azure", "user_identity_client_secret"],
  ["unified_alerting", "ha_redis_password"],
  ["metrics", "basic_auth_password"],
  ["external_image_storage.s3", "secret_key"],
  ["external_image_storage.webdav", "password"],
  ["external_image_storage.azure_blob", "account_key"],
];
const GRAFANA_EXPANSION = /\$(?:__(?:env|file|vault))?{[^}]+}/;

/** The chart rule's failures for a grafana values block (empty when the chart renders). */
function grafanaLeaks(grafana: Record<string, unknown>): string[] {
  if (grafana.assertNoLeakedSecrets === false) return ["assertNoLeakedSecrets turned off"];
  const ini = (grafana["grafana.ini"] ?? {}) as Record<string, Record<string, unknown>>;
  return GRAFANA_SENSITIVE_KEYS.filter(([section, key]) => ini[section] && key in ini[section])
    .filter(([section, key]) => !GRAFANA_EXPANSION.test(String(ini[section][key])))
    .map((p) => p.join("."));
}

/** Host access the values themselves show: host ports, hostNetwork, hostPID, hostPath volumes, privileged containers. */
function hostAccessInValues(values: unknown): string[] {
  return [
    ...findKey(values, "hostPort")
      .filter((h) => typeof h.value === "number" || (h.value as { enabled?: boolean })?.enabled === true)
      .map((h) => h.path.join(".")),
    ...["hostNetwork", "hostPID", "privileged"].flatMap((k) =>
      findKey(values, k)
        .filter((h) => h.value === true)
        .map((h) => h.path.join(".")),
    ),
    ...findKey(values, "hostPath").map((h) => h.path.join(".")),
  ];
}

const DEX_CONFIG = { addons: ["dex"], componentValues: { dex: EVERY_ADDON.componentValues.dex } };
/** VictoriaMetrics, Longhorn and ingress-nginx, with Dex: the choices the every-addon stack does not make. */
const OTHER_CHOICES_WITH_DEX = { ...OTHER_CHOICES, ...DEX_CONFIG };

describe("platform security: locks, credentials, PodSecurity", () => {
  const runs: Record<string, RunResult> = {};
  before(async () => {
    runs.every = await run("prd", { ...stackConfig("prd"), ...EVERY_ADDON });
    runs.other = await run("other", OTHER_CHOICES_WITH_DEX);
  });
  const everyRelease = () =>
    Object.entries(runs).flatMap(([stack, r]) => [...releases(r).values()].map((rel) => ({ stack, r, rel })));

  it("every component that serves through the ingress declares how it is locked, and each lock is one the platform makes", () => {
    const seen = new Set<string>();
    for (const { stack, rel } of everyRelease()) {
      const entry = catalogEntry(rel.name)!;
      const ingresses = enabledIngresses(rel.inputs.values);
      if (ingresses.length === 0) continue;
      seen.add(entry.name);
      assert.ok(
        (entry.exposes ?? []).length >= ingresses.length && entry.exposes!.every((e) => e.locks.length > 0),
        `${stack}: ${entry.name} serves ${ingresses.map((i) => i.path.join(".")).join(", ")} without a declared lock`,
      );
    }
    assert.deepEqual([...seen].sort(), ["argo-cd", "dex", "kube-prometheus-stack", "victoria-metrics-k8s-stack"]);
    for (const entry of CATALOG) {
      for (const e of entry.exposes ?? []) {
        if (e.locks.includes("generated-credential"))
          assert.ok(e.credentialValue, `${entry.name}: which value sets the credential?`);
        if (e.locks.includes("sso"))
          assert.ok(
            CATALOG.some((c) => c.provides?.singleSignOn),
            "no SSO provider in the catalog",
          );
      }
    }
  });

  it("no UI keeps a chart's default credential: each generated one is set by the values passed, from the random provider, and exported as a secret", () => {
    for (const { stack, r, rel } of everyRelease()) {
      const entry: CatalogEntry = catalogEntry(rel.name)!;
      for (const e of (entry.exposes ?? []).filter((x) => x.locks.includes("generated-credential"))) {
        const value = valueAt(rel.inputs.values, e.credentialValue!.split("."));
        assert.ok(typeof value === "string" && value !== "", `${stack}: ${entry.name} leaves ${e.credentialValue} to the chart`);
        assert.ok(rel.secretInputs.includes("values") || value !== MOCK_TOKEN);
        if (e.credentialValue!.endsWith("existingSecret")) {
          const secret = ofType(r, SECRET).find(
            (s) => s.inputs.metadata.name === value && s.inputs.metadata.namespace === entry.namespace,
          );
          assert.ok(secret, `${stack}: no Secret ${value} in ${entry.namespace}`);
          assert.equal(secret!.inputs.stringData["admin-password"], MOCK_TOKEN);
          assert.ok(secret!.secretInputs.includes("stringData"), "the password is not secret in state");
          assert.ok(dependsOn(rel, secret!), `${entry.name} may start before its Secret exists`);
        } else {
          assert.equal(value, MOCK_BCRYPT, `${entry.name}: ${e.credentialValue} is not the generated password's hash`);
          assert.ok(rel.secretInputs.includes("values"));
        }
      }
      // A password written into values would be a fixed one (and land in the release's history).
      assert.deepEqual(findKey(rel.inputs.values, "adminPassword"), [], `${stack}: ${rel.name} sets adminPassword in values`);
    }
    for (const r of Object.values(runs)) {
      for (const output of ["grafanaAdminPassword", "argoCdAdminPassword"]) {
        assert.equal(r.outputs[output], MOCK_TOKEN);
        assert.ok(r.secretOutputs.includes(output), `${output} is not a secret output`);
      }
      assert.ok(!ofType(r, SECRET).some((s) => s.inputs.metadata.name === "argocd-initial-admin-secret"));
    }
  });

  it("with dex, both Grafanas pass the grafana chart's no-leaked-secrets rule; the client secret comes from a Secret", () => {
    const stacks: [RunResult, string][] = [
      [runs.every, "kube-prometheus-stack"],
      [runs.other, "victoria-metrics-k8s-stack"],
    ];
    for (const [r, name] of stacks) {
      const release = releases(r).get(name)!;
      const grafana = release.inputs.values.grafana;
      assert.equal(grafana["grafana.ini"]["auth.generic_oauth"].enabled, true, `${name}: no SSO`);
      assert.deepEqual(grafanaLeaks(grafana), [], `${name}: the grafana chart refuses these values`);
      const envName = /\$__env\{(\w+)\}/.exec(grafana["grafana.ini"]["auth.generic_oauth"].client_secret)![1];
      const secret = named(r, SECRET, `${name}-${grafana.envFromSecret}`);
      assert.equal(secret.inputs.metadata.namespace, "monitoring");
      assert.equal(secret.inputs.stringData[envName], releases(r).get("dex")!.inputs.values.config.staticClients[1].secret);
      assert.ok(secret.secretInputs.includes("stringData"));
      assert.ok(dependsOn(release, secret));
    }
    // The rule as written here does refuse the secret in plain text (what the values held before).
    assert.deepEqual(grafanaLeaks({ "grafana.ini": { "auth.generic_oauth": { client_secret: "s3cret" } } }), [
      "auth.generic_oauth.client_secret",
    ]);
  });

  it("labels every namespace with PodSecurity: privileged only where a workload takes from the node, baseline elsewhere", () => {
    for (const { stack, rel } of everyRelease()) {
      const entry = catalogEntry(rel.name)!;
      const shown = hostAccessInValues(rel.inputs.values);
      if (shown.length > 0)
        assert.ok(
          (entry.hostAccess ?? []).length > 0,
          `${stack}: ${entry.name} uses ${shown.join(", ")} but declares no hostAccess`,
        );
    }
    const privileged = new Set<string>();
    for (const [stack, r] of Object.entries(runs)) {
      const enabled = [...releases(r).keys()].map((n) => catalogEntry(n)!);
      const namespaces = ofType(r, NAMESPACE);
      for (const ns of new Set(enabled.map((e) => e.namespace).filter((n) => n !== "kube-system"))) {
        const object: Registered | undefined = namespaces.find((n) => n.inputs.metadata.name === ns);
        assert.ok(object, `${stack}: namespace ${ns} is not the platform's`);
        const level = enabled.some((e) => e.namespace === ns && (e.hostAccess ?? []).length > 0) ? "privileged" : "baseline";
        const labels = object!.inputs.metadata.labels;
        assert.equal(labels["pod-security.kubernetes.io/enforce"], level, `${stack}: ${ns}`);
        assert.equal(labels["pod-security.kubernetes.io/warn"], level === "privileged" ? "baseline" : "restricted");
        if (level === "privileged") privileged.add(ns);
        for (const rel of [...releases(r).values()].filter((x) => x.inputs.namespace === ns)) {
          assert.ok(dependsOn(rel, object!), `${rel.name} may install before its namespace's labels`);
          assert.equal(rel.inputs.createNamespace, false);
        }
      }
      const localPath = namespaces.find((n) => n.inputs.metadata.name === "local-path-storage");
      if (localPath) assert.equal(localPath.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
    }
    // Traefik's and ingress-nginx's host ports, node-exporter, Alloy, Longhorn, MetalLB's speaker, Ceph's daemons.
    assert.deepEqual([...privileged].sort(), [
      "ingress",
      "logging",
      "longhorn-system",
      "metallb-system",
      "monitoring",
      "rook-ceph",
    ]);
  });
});
