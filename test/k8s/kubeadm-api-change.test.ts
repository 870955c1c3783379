/**
 * A running kubeadm cluster does not take a new control-plane endpoint or new API certificate
 * names from its config: kubeadm bakes them into certificates and kubeconfigs at `kubeadm init`
 * (and `kubeadm upgrade apply` regenerates certificates with the names they already have). The
 * first server's install refuses such a change with the reason and what to do, before anything
 * on the node changes; the same names in another order are no change.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ClusterFacts, NodeFacts } from "../../k8s/bootstrap/distribution";
import { KUBEADM } from "../../k8s/bootstrap/kubeadm";
import { kubeadmSandbox } from "./bootstrap-scripts.fixtures";

const node: NodeFacts = {
  name: "server-1",
  role: "server",
  first: true,
  privateIp: "10.0.0.11",
  addresses: ["10.0.0.11"],
  memoryGb: 8,
  taints: [],
  resolvConf: "/run/systemd/resolve/resolv.conf",
};
// The sandbox's node holds its IP on loopback.
const settings = (tlsSans: string[]) => ({ ...installSettings(tlsSans), NODE_IP: "127.0.0.1" });
const installSettings = (tlsSans: string[]) =>
  KUBEADM.installSettings(node, {
    clusterName: "c",
    version: "v1.34.9",
    firstServerIp: "10.0.0.11",
    tlsSans,
    encryptionKey: Buffer.alloc(32, 2).toString("base64"),
  } satisfies ClusterFacts);

describe("kubeadm: a new API endpoint or certificate name on a running cluster", function () {
  this.timeout(60_000);

  function initialised() {
    const s = kubeadmSandbox(
      (s) =>
        `if [[ "$1 $2" == "init --config" ]]; then mkdir -p "${s.root}/etc/kubernetes" && echo admin > "${s.root}/etc/kubernetes/admin.conf"; fi`,
    );
    const first = s.run("kubeadm", ["init"], settings(["192.0.2.10", "api.example.com"]));
    assert.equal(first.status, 0, first.stderr);
    return s;
  }

  it("is refused with the reason, naming the old and new names, before the node changes", () => {
    const s = initialised();
    const before = fs.readFileSync(path.join(s.root, "etc/kubernetes/oci-k8s/kubeadm.yaml"), "utf8");
    const callsBefore = s.calls().length;
    const r = s.run("kubeadm", ["init"], settings(["192.0.2.10", "api.example.com", "api2.example.com"]));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /FAILED: the API endpoint or certificate names of this running kubeadm cluster would change/);
    assert.match(r.stderr, /certSAN api2\.example\.com/);
    assert.match(r.stderr, /try: .*kubeadm init phase certs apiserver/);
    assert.equal(fs.readFileSync(path.join(s.root, "etc/kubernetes/oci-k8s/kubeadm.yaml"), "utf8"), before);
    assert.deepEqual(s.calls().slice(callsBefore), [], "nothing ran on the node");
  });

  it("the same names in another order are no change", () => {
    const s = initialised();
    const r = s.run("kubeadm", ["init"], settings(["api.example.com", "192.0.2.10"]));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /control plane already initialised/);
  });
});
