/**
 * Names the charts compute from the release name must be valid Kubernetes names, or the API server
 * refuses the object (and an uninstall whose pre-delete hook is refused never finishes).
 */
import { strict as assert } from "assert";
import { MINIMAL_CONFIG, RunResult } from "../../scripts/mock-program";
import { releases, run } from "./platform.fixtures";

/**
 * k8s.io/apimachinery pkg/util/validation/validation.go, IsDNS1123Label: at most 63 characters
 * (DNS1123LabelMaxLength), lower-case alphanumerics and '-', starting and ending alphanumeric.
 */
export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

/**
 * victoria-metrics-common 0.3.16 (the dependency of victoria-metrics-operator 0.67.2, which
 * victoria-metrics-k8s-stack 0.91.2 locks), templates/_helpers.tpl: "vm.plain.fullname" without an
 * appKey and without useLegacyNaming falls to "vm.fullname": fullnameOverride, else the release
 * name when it contains the chart name, else "<release>-<chart>", truncated to 63 and trimmed of '-'.
 */
function vmFullname(release: string, chart: string, values: { fullnameOverride?: string; nameOverride?: string }): string {
  const name = values.nameOverride || chart;
  const full = values.fullnameOverride || (release.includes(name) ? release : `${release}-${name}`);
  return full.slice(0, 63).replace(/-+$/, "");
}

/**
 * victoria-metrics-operator 0.67.2, templates/cleanup.yaml: the pre-delete hook (crds.cleanup,
 * which victoria-metrics-k8s-stack 0.91.2's values turn on) is a Job "<fullname>-cleanup-hook" run by a
 * ServiceAccount of the same name; its pods carry the Job's name as the job-name label.
 */
const operatorHookNames = (fullname: string) => [`${fullname}-cleanup-hook`];

describe("platform: names the charts compute are valid Kubernetes names", () => {
  let r: RunResult;
  before(async () => {
    r = await run("vm", { ...MINIMAL_CONFIG, monitoring: "victoria-metrics-k8s-stack" });
  });

  it("the chart rule as written here refuses the name the operator's hook had (65 characters)", () => {
    const old = vmFullname("victoria-metrics-k8s-stack", "victoria-metrics-operator", {});
    assert.equal(operatorHookNames(old)[0].length, 65);
    assert.ok(!isDns1123Label(operatorHookNames(old)[0]));
  });

  it("victoria-metrics-k8s-stack's operator pre-delete hook Job is a DNS-1123 label, so uninstall and a switch of monitoring work", () => {
    const release = releases(r).get("victoria-metrics-k8s-stack")!;
    const values = release.inputs.values["victoria-metrics-operator"];
    const fullname = vmFullname(release.inputs.name, "victoria-metrics-operator", values);
    for (const name of [fullname, ...operatorHookNames(fullname)]) {
      assert.ok(isDns1123Label(name), `${name} (${name.length} characters) is not a DNS-1123 label`);
    }
  });
});
