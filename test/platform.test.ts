/** The platform under the mock runtime: releases, versions, ordering, resources, tolerations, objects validated by schema. */
import { strict as assert } from "assert";
import { ADDON_NAMES, CATALOG, catalogEntry, componentHostPorts } from "../k8s/platform/catalog";
import { SMALL_NODE_TAINT } from "../k8s/labels";
import { platformRequests } from "../k8s/platform/capacity";
import { MINIMAL_CONFIG, named, ofType, Registered, RunResult, runProgram, stackConfig, runOk } from "../scripts/mock-program";

type Model = new (object: never) => { validate(): void };

/** The schema packages are ES modules only; a real dynamic import loads them from this CommonJS test. */
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<Record<string, Model>>;
const MODELS: Record<string, Model> = {};
before(async () => {
  const load = async (name: string, specifier: string) => (MODELS[name] = (await importEsm(specifier))[name]);
  await Promise.all([
    load("Application", "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application"),
    load("Certificate", "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate"),
    load("ClusterIssuer", "@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer"),
    load("Deployment", "kubernetes-models/apps/v1/Deployment"),
    load("ConfigMap", "kubernetes-models/v1/ConfigMap"),
    load("Namespace", "kubernetes-models/v1/Namespace"),
    load("Secret", "kubernetes-models/v1/Secret"),
    load("ServiceAccount", "kubernetes-models/v1/ServiceAccount"),
    load("ClusterRole", "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole"),
    load("ClusterRoleBinding", "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding"),
    load("Role", "kubernetes-models/rbac.authorization.k8s.io/v1/Role"),
    load("RoleBinding", "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding"),
    load("StorageClass", "kubernetes-models/storage.k8s.io/v1/StorageClass"),
  ]);
});
const validate = (model: string, object: unknown) => new MODELS[model](object as never).validate();

const RELEASE = "kubernetes:helm.sh/v3:Release";
const ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer";
const CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate";
const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";

const run = runOk;

const releases = (r: RunResult) => new Map(ofType(r, RELEASE).map((x) => [x.name, x]));
const dependsOn = (a: Registered, b: Registered) => a.dependencies.includes(b.urn);

/** Deep search: does `needle` occur (deep-equal) anywhere inside `hay`? */
function contains(hay: unknown, needle: unknown): boolean {
  try {
    assert.deepEqual(hay, needle);
    return true;
  } catch {
    if (hay && typeof hay === "object") return Object.values(hay as object).some((v) => contains(v, needle));
    return false;
  }
}

/** The stack config plus every addon, with the values each addon requires. */
const EVERY_ADDON = {
  addons: ADDON_NAMES,
  componentValues: {
    "external-dns": { provider: { name: "oci" } },
    metallb: { addresses: ["10.0.0.240-10.0.0.250"] },
    dex: {
      config: {
        connectors: [
          {
            type: "github",
            id: "github",
            name: "GitHub",
            config: { clientID: "$GITHUB_CLIENT_ID", clientSecret: "$GITHUB_CLIENT_SECRET" },
          },
        ],
      },
    },
    "gha-runner-scale-set": { githubConfigUrl: "https://github.com/example/repo", githubConfigSecret: "github-app" },
  },
};

describe("platform: issue-10 fixes (status address, redirects, Loki, Alloy, sidecars, limits)", () => {
  let r: RunResult;
  before(async () => {
    r = await run("dev", stackConfig("dev"));
  });

  it("runs Loki from the open-source chart's new home, sized with GOMEMLIMIT under its limit, two queries at a time, no rules sidecar", () => {
    const loki = releases(r).get("loki")!.inputs;
    assert.equal(loki.repositoryOpts.repo, "https://grafana-community.github.io/helm-charts");
    assert.equal(loki.values.deploymentMode, "Monolithic");
    const sb = loki.values.singleBinary;
    assert.equal(sb.replicas, 1);
    assert.deepEqual(sb.resources.requests.memory, "512Mi");
    assert.deepEqual(sb.resources.limits.memory, "1024Mi");
    const gomem = sb.extraEnv.find((e: { name: string }) => e.name === "GOMEMLIMIT").value;
    assert.ok(Number(/^(\d+)MiB$/.exec(gomem)![1]) < 1024, gomem);
    assert.equal(loki.values.loki.querier.max_concurrent, 2);
    assert.equal(sb.sidecar, false);
    assert.equal(loki.values.sidecar.rules.enabled, false);
  });

  it("keeps Alloy's read positions on the node, so a restart resumes instead of re-sending every log", () => {
    const v = releases(r).get("alloy")!.inputs.values;
    assert.equal(v.alloy.storagePath, "/var/lib/alloy");
    assert.ok(!v.alloy.storagePath.startsWith("/tmp"));
    assert.deepEqual(v.alloy.mounts.extra, [{ name: "alloy-state", mountPath: "/var/lib/alloy" }]);
    assert.deepEqual(v.controller.volumes.extra, [
      { name: "alloy-state", hostPath: { path: "/var/lib/alloy", type: "DirectoryOrCreate" } },
    ]);
  });

  it("sets and counts the containers charts add: Alloy's config reloader, Grafana's sidecars", () => {
    const alloy = catalogEntry("alloy")!;
    assert.deepEqual(releases(r).get("alloy")!.inputs.values.configReloader.resources, alloy.workloads.configReloader.resources);
    const kps = catalogEntry("kube-prometheus-stack")!;
    assert.deepEqual(
      releases(r).get("kube-prometheus-stack")!.inputs.values.grafana.sidecar.resources,
      kps.workloads.grafanaSidecars.resources,
    );
    const nodes = { all: 3, general: 1, ingress: 1, small: 2, withDataVolume: 1 };
    const [withReloader] = platformRequests([alloy], nodes);
    // Alloy and its reloader on every node, micro nodes included.
    assert.equal(withReloader.smallMemoryMiPerNode, 64 + 16);
  });

  it("caps Argo CD's redis below its memory limit, and gives Prometheus room to replay its WAL", () => {
    const argo = releases(r).get("argo-cd")!.inputs.values;
    const args: string[] = argo.redis.extraArgs;
    const maxMb = Number(args[args.indexOf("--maxmemory") + 1].replace("mb", ""));
    assert.ok(maxMb < Number(/^(\d+)Mi$/.exec(argo.redis.resources.limits.memory)![1]));
    assert.equal(args[args.indexOf("--maxmemory-policy") + 1], "allkeys-lru");
    const prometheus = releases(r).get("kube-prometheus-stack")!.inputs.values.prometheus.prometheusSpec;
    assert.equal(prometheus.resources.limits.memory, "1536Mi");
  });

  it("ingress-nginx publishes the load balancer's address and redirects HTTP to HTTPS", async () => {
    const nginx = await run("nginx", { ...MINIMAL_CONFIG, ingressController: "ingress-nginx" });
    const c = releases(nginx).get("ingress-nginx")!.inputs.values.controller;
    assert.equal(c.extraArgs["publish-status-address"], nginx.outputs.ingressPublicIp);
    assert.deepEqual(c.publishService, { enabled: false });
    assert.equal(c.config["force-ssl-redirect"], "true");
  });

  it("declares node-exporter's host port in the catalog, for both monitoring stacks, once", () => {
    for (const name of ["kube-prometheus-stack", "victoria-metrics-k8s-stack"]) {
      assert.deepEqual(
        catalogEntry(name)!.hostPorts!.map((p) => p.port),
        [9100],
      );
    }
    assert.deepEqual(
      componentHostPorts(CATALOG.filter((e) => e.name !== "metallb")).map((p) => `${p.protocol}/${p.port}`),
      ["tcp/9100"],
    );
    assert.deepEqual(componentHostPorts([catalogEntry("traefik")!]), []);
  });
});

describe("platform: dev stack", () => {
  let r: RunResult;
  before(async () => {
    r = await run("dev", stackConfig("dev"));
  });

  it("installs the base components at their catalog versions and namespaces, and no addon", () => {
    const base = [
      "traefik",
      "cert-manager",
      "sealed-secrets",
      "metrics-server",
      "kube-prometheus-stack",
      "loki",
      "alloy",
      "argo-cd",
    ];
    assert.deepEqual([...releases(r).keys()].sort(), base.sort());
    for (const name of base) {
      const release = releases(r).get(name)!;
      const entry = catalogEntry(name)!;
      assert.equal(release.inputs.name, name);
      assert.equal(release.inputs.chart, entry.helm!.chart);
      assert.equal(release.inputs.version, entry.helm!.version);
      assert.equal(release.inputs.repositoryOpts.repo, entry.helm!.repo);
      assert.equal(release.inputs.namespace, entry.namespace);
      assert.equal(release.inputs.atomic, true);
    }
  });

  it("runs Traefik as a DaemonSet on host ports 80/443 of the ingress nodes, with no LoadBalancer Service", () => {
    const v = releases(r).get("traefik")!.inputs.values;
    assert.equal(v.deployment.kind, "DaemonSet");
    assert.deepEqual(v.ports, {
      web: { hostPort: 80, http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } } },
      websecure: { hostPort: 443 },
    });
    assert.deepEqual(v.service, { enabled: false });
    // Ingress status: the load balancer's reserved address (no Service to copy it from).
    assert.deepEqual(v.providers, { kubernetesIngress: { ingressEndpoint: { ip: r.outputs.ingressPublicIp } } });
    assert.deepEqual(v.nodeSelector, { "oci-k8s.io/ingress": "true" });
    assert.deepEqual(v.updateStrategy.rollingUpdate, { maxUnavailable: 1, maxSurge: 0 });
    assert.equal(v.tlsStore.default.defaultCertificate.secretName, "ingress-default-tls");
  });

  it("gives Argo CD no Vault plugin when Vault is not enabled", () => {
    const values = releases(r).get("argo-cd")!.inputs.values;
    assert.equal(values.repoServer.extraContainers, undefined);
    assert.equal(values.configs.cmp, undefined);
  });

  it("orders only CRD dependencies; every other release installs in parallel", () => {
    const rel = releases(r);
    const edges = [...rel.values()].flatMap((a) =>
      [...rel.values()].filter((b) => dependsOn(a, b)).map((b) => `${a.name} -> ${b.name}`),
    );
    assert.deepEqual(edges.sort(), ["alloy -> loki", "argo-cd -> cert-manager"]);
    for (const issuer of ["letsencrypt-staging", "letsencrypt-production"])
      assert.ok(dependsOn(named(r, ISSUER, issuer), rel.get("cert-manager")!));
  });

  it("waits for every node to be Ready before installing anything", () => {
    const ready = named(r, "command:remote:Command", "cluster-ready");
    for (const release of releases(r).values())
      assert.ok(dependsOn(release, ready), `${release.name} does not wait for the cluster`);
  });

  it("sets requests and limits on every workload of every component", () => {
    for (const release of releases(r).values()) {
      const entry = catalogEntry(release.name)!;
      for (const [workload, w] of Object.entries(entry.workloads)) {
        const carrier = releases(r).get(w.installedWith ?? release.name)!;
        assert.ok(
          contains(carrier.inputs.values, w.resources),
          `${release.name}.${workload}: its resources are not in the values`,
        );
        assert.ok(w.resources.requests.cpu && w.resources.requests.memory && w.resources.limits.cpu && w.resources.limits.memory);
      }
    }
  });

  it("lets only node-level DaemonSets onto the tainted micro nodes", () => {
    for (const release of releases(r).values()) {
      const tolerates = JSON.stringify(release.inputs.values).includes(SMALL_NODE_TAINT.key);
      assert.equal(tolerates, catalogEntry(release.name)!.onSmallNodes, `${release.name}: micro toleration`);
    }
  });

  it("keeps the base components' memory requests at or under 3 GiB of the 12 GB", () => {
    const base = CATALOG.filter((e) =>
      [
        "traefik",
        "cert-manager",
        "sealed-secrets",
        "metrics-server",
        "local-path",
        "kube-prometheus-stack",
        "loki",
        "alloy",
        "argo-cd",
      ].includes(e.name),
    );
    const rows = platformRequests(base, { all: 3, general: 1, ingress: 1, small: 2, withDataVolume: 1 });
    const total = rows.reduce((s, x) => s + x.generalMemoryMi + x.smallMemoryMiPerNode * 2, 0);
    assert.ok(total <= 3072, `base requests ${total} Mi`);
  });

  it("sizes Prometheus and Loki storage for the 50 GB data volume on local-path", () => {
    const kps = releases(r).get("kube-prometheus-stack")!.inputs.values.prometheus.prometheusSpec;
    assert.equal(kps.storageSpec.volumeClaimTemplate.spec.resources.requests.storage, "15Gi");
    assert.equal(kps.storageSpec.volumeClaimTemplate.spec.storageClassName, "local-path");
    assert.equal(kps.retentionSize, "12GB");
    const loki = releases(r).get("loki")!.inputs.values;
    assert.equal(loki.deploymentMode, "Monolithic");
    assert.equal(loki.singleBinary.persistence.size, "10Gi");
    assert.equal(loki.loki.storage.type, "filesystem");
    assert.match(
      releases(r).get("alloy")!.inputs.values.alloy.configMap.content,
      /url = "http:\/\/loki\.logging\.svc\.cluster\.local:3100\/loki\/api\/v1\/push"/,
    );
  });

  it("creates Let's Encrypt staging and production ClusterIssuers (HTTP-01 through Traefik) and a default certificate, all schema-valid", () => {
    for (const [name, server] of [
      ["letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"],
      ["letsencrypt-production", "https://acme-v02.api.letsencrypt.org/directory"],
    ]) {
      const issuer = named(r, ISSUER, name).inputs;
      assert.equal(issuer.spec.acme.server, server);
      assert.deepEqual(issuer.spec.acme.solvers, [{ http01: { ingress: { ingressClassName: "traefik" } } }]);
      validate("ClusterIssuer", issuer);
    }
    const cert = named(r, CERTIFICATE, "ingress-default-certificate");
    assert.deepEqual(cert.inputs.spec.dnsNames, ["dev.example.com"]);
    assert.ok(dependsOn(cert, releases(r).get("traefik")!));
    validate("Certificate", cert.inputs);
  });

  it("creates local-path storage on the data volume as schema-valid objects, the default StorageClass", () => {
    const kinds: Record<string, string> = {
      "kubernetes:core/v1:Namespace": "Namespace",
      "kubernetes:core/v1:ServiceAccount": "ServiceAccount",
      "kubernetes:core/v1:ConfigMap": "ConfigMap",
      "kubernetes:apps/v1:Deployment": "Deployment",
      "kubernetes:rbac.authorization.k8s.io/v1:Role": "Role",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": "RoleBinding",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": "ClusterRole",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": "ClusterRoleBinding",
      "kubernetes:storage.k8s.io/v1:StorageClass": "StorageClass",
    };
    let validated = 0;
    for (const [type, model] of Object.entries(kinds)) {
      for (const object of ofType(r, type)) {
        validate(model, object.inputs);
        validated += 1;
      }
    }
    assert.equal(validated, 9);
    const sc = ofType(r, "kubernetes:storage.k8s.io/v1:StorageClass")[0].inputs;
    assert.equal(sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"], "true");
    assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
    const config = JSON.parse(ofType(r, "kubernetes:core/v1:ConfigMap")[0].inputs.data["config.json"]);
    assert.deepEqual(config.nodePathMap[0].paths, ["/var/mnt/k8s-data/local-path"]);
    assert.equal(r.outputs.storageClass, "local-path");
    assert.deepEqual(r.outputs.clusterIssuers, ["letsencrypt-staging", "letsencrypt-production"]);
  });

  it("installs every Kubernetes object through the cluster's provider", () => {
    const provider = named(r, "pulumi:providers:kubernetes", "cluster-provider");
    const objects = r.resources.filter((x) => x.type.startsWith("kubernetes:"));
    assert.equal(objects.length, 8 + 9 + 3, "8 releases, 9 local-path objects, 2 issuers and a certificate");
    for (const o of objects)
      assert.ok(o.provider.startsWith(`${provider.urn}::`), `${o.type}::${o.name} uses ${o.provider || "the default provider"}`);
    assert.equal(ofType(r, APPLICATION).length, 0, "no GitOps objects without gitopsRepoUrl");
  });
});

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
    assert.equal(grafana.client_secret, dex.inputs.values.config.staticClients[1].secret);
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
    const r = await run("choices", {
      ...MINIMAL_CONFIG,
      tier: "payg",
      acceptCharges: true, // two A1 nodes of 2 OCPU / 12 GB: billed beyond the free half
      ingressController: "ingress-nginx",
      storage: "longhorn",
      monitoring: "victoria-metrics-k8s-stack",
      nodes: [
        { name: "server-1", role: "server", ocpus: 2, memoryGb: 12, dataVolumeGb: 50 },
        { name: "agent-1", role: "agent", ocpus: 2, memoryGb: 12, dataVolumeGb: 50 },
      ],
    });
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
