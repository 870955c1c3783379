/**
 * Joins go through the fixed registration address when the stack has one (the kube-vip VIP, or
 * `apiAddress`), not through the first server, and a replaced first server rejoins the cluster it
 * founded instead of starting a new one. k3s docs, "High Availability Embedded etcd" / "Cluster
 * Load Balancer" (a fixed registration address for `server:`); RKE2 docs, "High Availability"
 * (the fixed registration address serves 9345 and 6443); kubeadm v1beta4 JoinConfiguration
 * discovery.bootstrapToken.apiServerEndpoint.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { named, ofType, ROOT, runOk, stackConfigFrom } from "../../scripts/mock-program";
import { fakeBin } from "../tools";
import { fakeRancher, k3sServer, sandbox } from "./bootstrap-scripts.fixtures";

const onpremHa = () => stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.onprem-ha.yaml"));
const installs = (r: Awaited<ReturnType<typeof runOk>>) =>
  ofType(r, "command:remote:Command").filter((c) => c.name.endsWith("-install"));

describe("joins through the fixed registration address", function () {
  this.timeout(120_000);

  for (const [dist, port] of [
    ["k3s", 6443],
    ["rke2", 9345],
  ] as const) {
    it(`${dist}: every node but the first joins at the VIP; the first server can rejoin there or at another server`, async () => {
      const r = await runOk("joins", { ...onpremHa(), "oci-k8s:distribution": dist });
      for (const c of installs(r)) {
        const settings = decodeSettings(c.inputs.stdin);
        const config = parse(settings.CONFIG);
        if (c.name === "cp-1-install") {
          assert.equal(config.server, undefined);
          assert.equal(config["cluster-init"], true);
          assert.equal(
            settings.REJOIN_URLS,
            [`https://10.10.0.10:${port}`, `https://10.10.0.12:${port}`, `https://10.10.0.13:${port}`].join(" "),
          );
        } else {
          assert.equal(config.server, `https://10.10.0.10:${port}`, c.name);
          assert.equal(settings.REJOIN_URLS, undefined);
        }
      }
    });
  }

  it("k3s with apiAddress: nodes join at the load balancer", async () => {
    const config = {
      ...onpremHa(),
      "oci-k8s:distribution": "k3s",
      "oci-k8s:apiVip": "",
      "oci-k8s:apiAddress": "api.lab.example.com",
    };
    const r = await runOk("joins", config);
    const worker = parse(decodeSettings(named(r, "command:remote:Command", "worker-1-install").inputs.stdin).CONFIG);
    assert.equal(worker.server, "https://api.lab.example.com:6443");
  });

  it("kubeadm: servers and agents discover the cluster at the VIP", async () => {
    const r = await runOk("joins", onpremHa());
    for (const c of installs(r).filter((x) => x.name !== "cp-1-install")) {
      const join = parse(decodeSettings(c.inputs.stdin).CONFIG);
      assert.equal(join.discovery.bootstrapToken.apiServerEndpoint, "10.10.0.10:6443", c.name);
    }
  });

  describe("rancher.sh on a first server", () => {
    /** curl that answers /cacerts when FAKE_CLUSTER_ANSWERS is set, and serves the fake installer otherwise. */
    function sandboxWithCluster() {
      const s = sandbox();
      fakeRancher(s, "k3s");
      fs.renameSync(path.join(s.bin, "curl"), path.join(s.bin, "curl-installer"));
      fakeBin(
        s.bin,
        "curl",
        `if [[ "$*" == */cacerts* ]]; then [[ -n "\${FAKE_CLUSTER_ANSWERS:-}" && "$*" == *"$FAKE_CLUSTER_ANSWERS"* ]]; exit; fi
exec "${s.bin}/curl-installer" "$@"`,
      );
      return s;
    }
    const settings = { ...k3sServer(), REJOIN_URLS: "https://10.10.0.10:6443 https://10.10.0.12:6443" };
    const configOf = (s: ReturnType<typeof sandbox>) =>
      parse(fs.readFileSync(path.join(s.root, "etc/rancher/k3s/config.yaml"), "utf8"));

    it("founds the cluster when nothing answers (the first install)", () => {
      const s = sandboxWithCluster();
      const r = s.run("rancher", ["k3s", "server"], settings);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(configOf(s)["cluster-init"], true);
      assert.equal(configOf(s).server, undefined);
    });

    it("replaced while the cluster answers: joins it through the first address that answers, and keeps doing so", () => {
      const s = sandboxWithCluster();
      const r = s.run("rancher", ["k3s", "server"], settings, { FAKE_CLUSTER_ANSWERS: "10.10.0.12" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /the cluster already answers at https:\/\/10\.10\.0\.12:6443: this replaced first server joins it/);
      assert.equal(configOf(s)["cluster-init"], undefined);
      assert.equal(configOf(s).server, "https://10.10.0.12:6443");
      // The next run (same settings, nothing answering this time) leaves it a member.
      const again = s.run("rancher", ["k3s", "server"], settings);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(configOf(s).server, "https://10.10.0.12:6443");
      assert.match(again.stderr, /nothing to do/);
    });
  });
});
