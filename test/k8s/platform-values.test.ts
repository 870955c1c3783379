/** The platform under the mock runtime: releases, versions, ordering, resources, tolerations, objects validated by schema. */
import { strict as assert } from "assert";
import { CATALOG, catalogEntry, componentHostPorts } from "../../k8s/platform/catalog";
import { SMALL_NODE_TAINT } from "../../k8s/labels";
import { platformRequests } from "../../k8s/platform/capacity";
import { MINIMAL_CONFIG, named, ofType, RunResult, stackConfig } from "../../scripts/mock-program";
import { validate, ISSUER, CERTIFICATE, APPLICATION, run, releases, dependsOn, contains } from "./platform.fixtures";

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
    // Argo CD beside cert-manager (an annotation only), Alloy beside Loki (a URL it retries): issue 24.
    assert.deepEqual(edges.sort(), []);
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
      "kubernetes:core/v1:Secret": "Secret",
    };
    let validated = 0;
    for (const [type, model] of Object.entries(kinds)) {
      for (const object of ofType(r, type)) {
        validate(model, object.inputs);
        validated += 1;
      }
    }
    // local-path's 9, the namespaces of the 5 charts outside kube-system, Grafana's admin Secret.
    assert.equal(validated, 9 + 5 + 1);
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
    assert.equal(
      objects.length,
      8 + 9 + 3 + 5 + 1,
      "8 releases, 9 local-path objects, 2 issuers and a certificate, 5 namespaces, Grafana's admin Secret",
    );
    for (const o of objects)
      assert.ok(o.provider.startsWith(`${provider.urn}::`), `${o.type}::${o.name} uses ${o.provider || "the default provider"}`);
    assert.equal(ofType(r, APPLICATION).length, 0, "no GitOps objects without gitopsRepoUrl");
  });
});
