/**
 * The alert rules the monitoring stack ships, loaded and unit-tested by Prometheus's own promtool
 * (synthetic series in alerts/*.test.yaml), and handed to both monitoring stacks.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ALERT_RULE_FILES, alertRules, shippedAlertRules } from "../../k8s/platform/values/monitoring";
import { ROOT, runOk, stackConfig } from "../../scripts/mock-program";
import { requireTool, run } from "../tools";

const ALERTS = path.join(ROOT, "k8s", "platform", "values", "alerts");

describe("alert rules (promtool)", () => {
  for (const name of ALERT_RULE_FILES) {
    it(`${name}: loads in Prometheus's rule format and fires on its synthetic series exactly as expected`, function () {
      requireTool(this, "promtool");
      const check = run("promtool", ["check", "rules", path.join(ALERTS, `${name}.yaml`)]);
      assert.equal(check.status, 0, check.stdout + check.stderr);
      const test = run("promtool", ["test", "rules", path.join(ALERTS, `${name}.test.yaml`)]);
      assert.equal(test.status, 0, test.stdout + test.stderr);
      assert.match(test.stdout, /SUCCESS/);
    });
  }

  it("the idle-reclamation test covers a node at risk and each reason a node is safe", () => {
    const tests = parse(fs.readFileSync(path.join(ALERTS, "idle-reclamation.test.yaml"), "utf8"));
    const fired = tests.tests[0].alert_rule_test.flatMap((t: { exp_alerts: { exp_labels: { instance: string } }[] }) =>
      t.exp_alerts.map((a) => a.exp_labels.instance),
    );
    assert.deepEqual(fired.sort(), ["idle-a1", "idle-micro"]);
    const instances = new Set(
      tests.tests[0].input_series.map((s: { series: string }) => /instance="([^"]+)"/.exec(s.series)![1]),
    );
    assert.deepEqual([...instances].sort(), ["busy-a1", "full-a1", "idle-a1", "idle-micro"]);
  });

  it("both monitoring stacks receive the rules", async () => {
    assert.ok(shippedAlertRules()["oci-k8s-idle-reclamation"].groups.length > 0);
    const rules = alertRules();
    assert.ok(rules["etcd-restore-drill"].groups.length > 0);
    const r = await runOk("dev", stackConfig("dev"));
    const kps = r.resources.find((x) => x.type === "kubernetes:helm.sh/v3:Release" && x.name === "kube-prometheus-stack")!;
    assert.deepEqual(kps.inputs.values.additionalPrometheusRulesMap, rules);
    const vm = await runOk("vm", { ...stackConfig("dev"), "oci-k8s:monitoring": "victoria-metrics-k8s-stack" });
    const vms = vm.resources.find((x) => x.type === "kubernetes:helm.sh/v3:Release" && x.name === "victoria-metrics-k8s-stack")!;
    assert.deepEqual(vms.inputs.values.additionalVictoriaMetricsMap, rules);
  });
});
