/** The platform under the mock runtime: releases, versions, ordering, resources, tolerations, objects validated by schema. */
import { strict as assert } from "assert";
import { ADDON_NAMES, catalogEntry } from "../../k8s/platform/catalog";
import { MINIMAL_CONFIG, named, ofType, Registered, runProgram, stackConfig } from "../../scripts/mock-program";
import {
  validate,
  ISSUER,
  APPLICATION,
  run,
  releases,
  dependsOn,
  contains,
  EVERY_ADDON,
  OTHER_CHOICES,
} from "./platform.fixtures";

describe("platform: choices, addons and overrides", () => {
  it("installs every addon when enabled, each at its catalog version, with its required values", async () => {
    const r = await run("prd", { ...stackConfig("prd"), ...EVERY_ADDON });
    const rel = releases(r);
    for (const addon of ADDON_NAMES.filter((a) => catalogEntry(a)!.helm)) {
      const entry = catalogEntry(addon)!;
      assert.ok(rel.has(addon), `${addon} missing`);
      assert.equal(rel.get(addon)!.inputs.version, entry.helm!.version);
      for (const [workload, w] of Object.entries(entry.workloads)) {
        assert.ok(
          contains(rel.get(w.installedWith ?? addon)!.inputs.values, w.resources),
          `${addon}.${workload}: resources missing`,
        );
      }
    }
    const mackerel = named(r, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "mackerel-container-agent");
    validate("ClusterRole", mackerel.inputs);
    assert.deepEqual(mackerel.inputs.rules[0].resources, ["nodes/proxy", "nodes/stats", "nodes/spec"]);
    // With Vault, Argo CD's repo server gets the argocd-vault-plugin: a checksum-verified binary and a CMP sidecar.
    const argo = rel.get("argo-cd")!.inputs.values.repoServer;
    assert.match(argo.initContainers[0].command[2], /sha256sum -c -/);
    assert.match(argo.initContainers[0].command[2], /argocd-vault-plugin\/releases\/download\/v1\.18\.1/);
    const sidecar = argo.extraContainers[0];
    assert.equal(sidecar.image, "quay.io/argoproj/argocd:v3.4.4");
    assert.deepEqual(
      sidecar.env.find((e: { name: string }) => e.name === "AVP_AUTH_TYPE"),
      { name: "AVP_AUTH_TYPE", value: "k8s" },
    );
    assert.ok(rel.get("argo-cd")!.inputs.values.configs.cmp.plugins.avp.generate);
    // With Dex: Argo CD and Grafana log in through it, each with a generated client secret kept secret.
    const dex = rel.get("dex")!;
    assert.ok(dex.secretInputs.includes("values"), "Dex's values carry client secrets and must be secret");
    assert.match(dex.inputs.values.config.issuer, /^https:\/\/dex\./);
    assert.deepEqual(
      dex.inputs.values.config.staticClients.map((c: { id: string }) => c.id),
      ["argo-cd", "grafana"],
    );
    assert.deepEqual(dex.inputs.values.config.connectors[0].id, "github");
    const argoCd = rel.get("argo-cd")!;
    assert.ok(argoCd.secretInputs.includes("values"));
    assert.match(argoCd.inputs.values.configs.cm["oidc.config"], /clientSecret: \$oidc\.dex\.clientSecret/);
    assert.equal(
      argoCd.inputs.values.configs.secret.extra["oidc.dex.clientSecret"],
      dex.inputs.values.config.staticClients[0].secret,
    );
    const grafana = rel.get("kube-prometheus-stack")!.inputs.values.grafana["grafana.ini"]["auth.generic_oauth"];
    // Its client secret comes from a Secret (the grafana chart refuses it in values): platform-security.test.ts.
    assert.equal(grafana.client_secret, "$__env{GRAFANA_SSO_CLIENT_SECRET}");
    assert.match(grafana.token_url, /^https:\/\/dex\..*\/token$/);
    const arc = rel.get("gha-runner-scale-set")!;
    assert.equal(arc.inputs.chart, "oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set");
    assert.equal(arc.inputs.repositoryOpts, undefined);
    assert.equal(arc.inputs.values.githubConfigUrl, "https://github.com/example/repo");
    assert.ok(dependsOn(arc, rel.get("gha-runner-scale-set-controller")!));
    assert.ok(dependsOn(rel.get("prometheus-adapter")!, rel.get("kube-prometheus-stack")!));
    assert.deepEqual(rel.get("external-dns")!.inputs.values.provider, { name: "oci" });
  });

  it("picks ingress-nginx, longhorn and VictoriaMetrics when chosen", async () => {
    const r = await run("choices", OTHER_CHOICES);
    const rel = releases(r);
    assert.ok(!rel.has("traefik") && !rel.has("kube-prometheus-stack"));
    const nginx = rel.get("ingress-nginx")!.inputs.values.controller;
    assert.equal(nginx.kind, "DaemonSet");
    assert.deepEqual(nginx.hostPort, { enabled: true, ports: { http: 80, https: 443 } });
    assert.equal(nginx.extraArgs["default-ssl-certificate"], "ingress/ingress-default-tls");
    const longhorn = rel.get("longhorn")!.inputs.values;
    assert.equal(longhorn.defaultSettings.defaultDataPath, "/var/mnt/k8s-data/longhorn");
    assert.equal(longhorn.persistence.defaultClassReplicaCount, 2);
    assert.equal(ofType(r, "kubernetes:storage.k8s.io/v1:StorageClass").length, 0, "no local-path objects with longhorn");
    assert.equal(rel.get("victoria-metrics-k8s-stack")!.inputs.values.vmsingle.spec.storage.storageClassName, "longhorn");
    assert.equal(named(r, ISSUER, "letsencrypt-production").inputs.spec.acme.solvers[0].http01.ingress.ingressClassName, "nginx");
    assert.equal(r.outputs.storageClass, "longhorn");
  });

  it("merges a stack's values over the catalog's without losing the defaults", async () => {
    const r = await run("override", {
      ...MINIMAL_CONFIG,
      componentValues: { traefik: { logs: { general: { level: "DEBUG" } }, ports: { web: { hostPort: 8080 } } } },
    });
    const v = releases(r).get("traefik")!.inputs.values;
    assert.deepEqual(v.logs, { general: { level: "DEBUG" } });
    assert.deepEqual(v.ports, {
      web: { hostPort: 8080, http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } } },
      websecure: { hostPort: 443 },
    });
    assert.equal(v.deployment.kind, "DaemonSet");
  });

  it("hands off to Argo CD: a repository secret from the secret credential and the root Application", async () => {
    const r = await runProgram("gitops", {
      ...MINIMAL_CONFIG,
      gitopsRepoUrl: "https://github.com/example/cluster.git",
      gitopsRepoCredential: "ghp_ExampleTokenThatIsSecret",
    });
    if (r.error) throw r.error;
    const app = named(r, APPLICATION, "gitops-root");
    validate("Application", app.inputs);
    assert.deepEqual(app.inputs.spec.source, {
      repoURL: "https://github.com/example/cluster.git",
      targetRevision: "main",
      path: "clusters/gitops",
      directory: { recurse: true },
    });
    assert.deepEqual(app.inputs.spec.syncPolicy.automated, { prune: true, selfHeal: true });
    const secret = named(r, "kubernetes:core/v1:Secret", "gitops-repository");
    validate("Secret", secret.inputs);
    assert.equal(secret.inputs.metadata.labels["argocd.argoproj.io/secret-type"], "repository");
    assert.ok(secret.secretInputs.includes("stringData"), "the credential is not secret");
    assert.ok(dependsOn(app, secret) && dependsOn(app, releases(r).get("argo-cd")!));
    for (const x of r.resources) {
      for (const [k, v] of Object.entries(x.inputs)) {
        if (!x.secretInputs.includes(k))
          assert.ok(!JSON.stringify(v ?? null).includes("ghp_ExampleTokenThatIsSecret"), `${x.name}.${k} shows the credential`);
      }
    }
  });

  it("refuses a platform that requests more memory than the nodes can give, with the table, before any resource", async () => {
    const r = await runProgram("small", {
      ...MINIMAL_CONFIG,
      ...EVERY_ADDON,
      nodes: [{ name: "server-1", role: "server", ocpus: 1, memoryGb: 3 }],
    });
    assert.ok(r.error);
    assert.match(
      r.error!.message,
      /request more memory than the nodes can give \(\d+ Mi of \d+ Mi allocatable on the general nodes\); nothing was created/,
    );
    assert.match(r.error!.message, /kube-prometheus-stack\s+88\.5\.3\s+\d+ Mi/);
    assert.deepEqual(r.resources, []);
  });
});

describe("platform: destroy order", () => {
  it("deletes the platform before the cluster and the cluster before the instances (reverse dependencies)", async () => {
    const r = await run("dev", stackConfig("dev"));
    const byUrn = new Map(r.resources.map((x) => [x.urn, x]));
    // The engine orders a resource after its explicit dependencies and after its provider.
    const edges = (x: Registered) => [
      ...x.dependencies,
      ...(x.provider ? [x.provider.slice(0, x.provider.lastIndexOf("::"))] : []),
    ];
    const reaches = (from: Registered, target: (x: Registered) => boolean, seen = new Set<string>()): boolean =>
      edges(from).some((urn) => {
        if (seen.has(urn)) return false;
        seen.add(urn);
        const dep = byUrn.get(urn);
        return dep !== undefined && (target(dep) || reaches(dep, target, seen));
      });
    const ready = named(r, "command:remote:Command", "cluster-ready");
    for (const o of r.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
      assert.ok(
        reaches(o, (x) => x === ready),
        `${o.type}::${o.name} would outlive the cluster on destroy`,
      );
    }
    for (const instance of ofType(r, "oci:Core/instance:Instance")) {
      assert.ok(
        reaches(ready, (x) => x === instance),
        `the cluster would outlive ${instance.name}`,
      );
    }
    // An API already gone (the cluster destroyed or unreachable) does not block removing the rest.
    assert.equal(named(r, "pulumi:providers:kubernetes", "cluster-provider").inputs.deleteUnreachable, "true");
  });
});
