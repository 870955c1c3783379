/** Delivery files: the Renovate config (its managers, pins and the versions it tracks). */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { KUBEADM, K3S, RKE2 } from "../../k8s/bootstrap/distributions";
import { CATALOG } from "../../k8s/platform/catalog";
import { ROOT } from "../../scripts/mock-program";
import { missing, tempDir } from "../tools";

describe("delivery: Renovate", () => {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8"));
  const managers = config.customManagers as { description: string; fileMatch: string[]; matchStrings: string[] }[];
  const manager = (description: RegExp) => managers.find((m) => description.test(m.description))!;
  /** Every match of a custom manager over the files it names, as its named groups. */
  const matches = (m: { fileMatch: string[]; matchStrings: string[] }, file: string) => {
    assert.ok(
      m.fileMatch.some((p) => new RegExp(p).test(file)),
      `${file} is not among the manager's files`,
    );
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    return m.matchStrings.flatMap((s) => [...text.matchAll(new RegExp(s, "g"))].map((x) => x.groups!));
  };

  it("renovate.json passes Renovate's own config validator (strict)", function () {
    this.timeout(120_000);
    const validator = path.join(ROOT, "tools", "renovate", "node_modules", ".bin", "renovate-config-validator");
    if (!fs.existsSync(validator)) missing(this, "Renovate's config validator", "npm ci --prefix tools/renovate");
    const r = spawnSync(validator, ["--strict", "renovate.json"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, LOG_LEVEL: "info" },
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const broken = path.join(tempDir("renovate"), "renovate.json");
    fs.writeFileSync(broken, JSON.stringify({ ...config, packageRules: [{ matchPackageNames: ["x"], allowedVersions: 3 }] }));
    assert.notEqual(
      spawnSync(validator, ["--strict", broken], { cwd: ROOT, encoding: "utf8" }).status,
      0,
      "the validator accepts anything",
    );
  });

  it("orders distribution rebuilds with Renovate's own versioning, steps one minor at a time, gates majors, delays npm", function () {
    const lib = path.join(ROOT, "tools", "renovate", "node_modules", "renovate", "dist", "modules", "versioning");
    if (!fs.existsSync(lib)) missing(this, "Renovate's versioning modules", "npm ci --prefix tools/renovate");

    const versioning = require(lib) as {
      get(name: string): { isGreaterThan(a: string, b: string): boolean; isValid(v: string): boolean };
    };
    const rules = config.packageRules as Record<string, unknown>[];
    const ruleFor = (pkg: string, key: string) =>
      rules.find((r) => (r.matchPackageNames as string[] | undefined)?.includes(pkg) && key in r);
    for (const [pkg, current, rebuilt] of [
      ["k3s-io/k3s", K3S.defaultVersion, K3S.defaultVersion.replace(/k3s\d+$/, "k3s9")],
      ["rancher/rke2", RKE2.defaultVersion, RKE2.defaultVersion.replace(/rke2r\d+$/, "rke2r9")],
    ]) {
      const scheme = versioning.get(String(ruleFor(pkg, "versioning")!.versioning));
      assert.ok(scheme.isValid(current), `${pkg}: ${current} is not valid under its versioning`);
      assert.ok(scheme.isGreaterThan(rebuilt, current), `${pkg}: ${rebuilt} is not newer than ${current}`);
      // What the default (semver) would have said: equal, so no rebuild ever came.
      assert.equal(versioning.get("semver").isGreaterThan(rebuilt, current), false);
    }
    assert.equal(ruleFor("k3s-io/k3s", "separateMultipleMinor")!.separateMultipleMinor, true);
    assert.ok(
      rules.some(
        (r) => (r.matchUpdateTypes as string[] | undefined)?.includes("major") && r.dependencyDashboardApproval === true,
      ),
    );
    assert.ok(
      rules.some((r) => (r.matchDatasources as string[] | undefined)?.includes("npm") && typeof r.minimumReleaseAge === "string"),
    );
    assert.ok(
      rules.some(
        (r) => (r.matchManagers as string[] | undefined)?.includes("github-actions") && typeof r.minimumReleaseAge === "string",
      ),
      "bumped actions run in their own PR's workflows: they wait too",
    );
  });

  it("bumps every chart of the catalog (repository and OCI charts)", () => {
    const files = fs.readdirSync(path.join(ROOT, "k8s/platform/components")).map((f) => `k8s/platform/components/${f}`);
    const helm = files.flatMap((f) => matches(manager(/chart repositories/), f));
    const oci = files.flatMap((f) => matches(manager(/OCI registries/), f));
    const charts = CATALOG.filter((e) => e.helm);
    assert.equal(helm.length + oci.length, charts.length);
    for (const e of charts) {
      const found = [...helm, ...oci].find((g) => e.helm!.chart.endsWith(g.depName));
      assert.ok(found, `${e.name} is not matched`);
      assert.equal(found.currentValue, e.helm!.version);
      if (found.registryUrl) assert.equal(found.registryUrl, e.helm!.repo);
    }
  });

  it("bumps the distributions, the Vault plugin, the images and flannel pinned in code", () => {
    const annotated = ["k8s/bootstrap/rancher.ts", "k8s/bootstrap/kubeadm.ts"].flatMap((f) => matches(manager(/annotated/), f));
    assert.deepEqual(
      annotated.map((g) => `${g.depName}@${g.currentValue}`),
      [
        `k3s-io/k3s@${K3S.defaultVersion}`,
        `rancher/rke2@${RKE2.defaultVersion}`,
        `kubernetes/kubernetes@${KUBEADM.defaultVersion}`,
      ],
    );
    assert.deepEqual(
      matches(manager(/annotated/), "k8s/platform/values/argo-cd.ts").map((g) => `${g.depName}@${g.currentValue}`),
      ["argoproj-labs/argocd-vault-plugin@1.18.1"],
    );
    const images = [
      "k8s/platform/local-path.ts",
      "k8s/platform/values/argo-cd.ts",
      "k8s/platform/components/gha-runner-scale-set.ts",
    ].flatMap((f) => matches(manager(/images/), f));
    assert.deepEqual(images.map((g) => `${g.depName}:${g.currentValue}`).sort(), [
      "docker.io/library/alpine:3.22",
      "docker.io/library/busybox:1.37.0",
      "docker.io/rancher/local-path-provisioner:v0.0.37",
      "ghcr.io/actions/actions-runner:2.335.1",
      "quay.io/argoproj/argocd:v3.4.4",
    ]);
    assert.deepEqual(
      matches(manager(/Flannel/), "k8s/bootstrap/kubeadm.ts").map((g) => g.currentValue),
      ["v0.28.4"],
    );
    for (const wf of ["preview.yml", "deploy.yml"]) {
      assert.deepEqual(
        matches(manager(/Pulumi CLI/), `.github/workflows/${wf}`).map((g) => g.currentValue),
        ["3.248.0"],
      );
    }
  });
});
