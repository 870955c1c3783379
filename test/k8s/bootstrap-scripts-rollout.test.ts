/**
 * The bootstrap scripts run for real under bash, exactly as sent to a node (lib.sh + script, as
 * `bash -c`), against fake distribution binaries on PATH that record their calls and can be
 * told to fail. Files the scripts write land under OCI_K8S_ROOT, a temp dir.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fakeBin } from "../tools";
import { sandbox } from "./bootstrap-scripts.fixtures";

describe("bootstrap scripts: rollout.sh (drain, change, uncordon, one node at a time)", () => {
  const KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";
  /**
   * A fake cluster: kubectl answers from files under state/nodes/<name>/ (version, ready, bootid,
   * unschedulable, ann.<annotation>), and cordon, uncordon, annotate and drain change them.
   */
  function cluster() {
    const s = sandbox();
    const nodes = path.join(s.state, "nodes");
    fs.mkdirSync(nodes);
    fs.mkdirSync(path.join(s.root, path.dirname(KUBECONFIG_PATH)), { recursive: true });
    fs.writeFileSync(path.join(s.root, KUBECONFIG_PATH), "admin");
    fakeBin(
      s.bin,
      "kubectl",
      `d="${nodes}/$3"; [[ "$1" == *cordon || "$1" == drain ]] && d="${nodes}/$2"
case "$1" in
  get)
    [[ "$2" == --raw=/readyz ]] && exit 0
    # Storage: CRDs installed when state/crd.<name> exists; the objects' status lines from state/storage.<resource>.
    if [[ "$2" == crd ]]; then [[ -e "${s.state}/crd.$3" ]] && echo "customresourcedefinition.apiextensions.k8s.io/$3"; exit 0; fi
    if [[ "$2" == *.* ]]; then n="${s.state}/n.$2"; echo $(( $(cat "$n" 2>/dev/null || echo 0) + 1 )) > "$n"; f="${s.state}/storage.$2.$(cat "$n")"; [[ -e "$f" ]] || f="${s.state}/storage.$2"; cat "$f" 2>/dev/null; exit 0; fi
    [[ -d "$d" ]] || exit 0
    q="\${@: -1}"
    case "$q" in
      *metadata.name*) echo "$3"; exit 0 ;;
      *kubeletVersion*) f=version ;; *Ready*) f=ready ;; *bootID*) f=bootid ;; *unschedulable*) f=unschedulable ;;
      *annotations*) k="\${q#*annotations.}"; k="\${k%\\}}"; f="ann.\${k//\\\\/}"; f="\${f//\\//_}" ;;
    esac
    cat "$d/$f" 2>/dev/null || true ;;
  cordon) echo true > "$d/unschedulable" ;;
  uncordon) rm -f "$d/unschedulable" ;;
  drain) exit "\${FAKE_DRAIN_STATUS:-0}" ;;
  annotate)
    shift 3
    for a in "$@"; do
      [[ "$a" == --overwrite ]] && continue
      if [[ "$a" == *=* ]]; then k="\${a%%=*}"; printf '%s' "\${a#*=}" > "$d/ann.\${k//\\//_}"; else k="\${a%-}"; rm -f "$d/ann.\${k//\\//_}"; fi
    done ;;
esac`,
    );
    const node = (name: string, state: Record<string, string>) => {
      fs.mkdirSync(path.join(nodes, name), { recursive: true });
      for (const [k, v] of Object.entries(state)) fs.writeFileSync(path.join(nodes, name, k.replace(/\//g, "_")), v);
    };
    const read = (name: string, key: string) => {
      const f = path.join(nodes, name, key.replace(/\//g, "_"));
      return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : undefined;
    };
    const step = (
      action: "drain" | "uncordon",
      name: string,
      version: string,
      machine: string,
      env: Record<string, string> = {},
      force = "false",
      settings: Record<string, string> = {},
    ) =>
      s.run(
        "rollout",
        [action],
        {
          KUBECTL: "kubectl",
          KUBECONFIG_PATH,
          NODE_NAME: name,
          VERSION: version,
          MACHINE: machine,
          FORCE: force,
          DRAIN_TIMEOUT: "600s",
          ...settings,
        },
        { OCI_K8S_READY_ATTEMPTS: "3", OCI_K8S_STORAGE_ATTEMPTS: "3", ...env },
      );
    /** A storage system installed: its CRD, and what `kubectl get <resource> -A` prints (per call: "<n>" keys). */
    const storage = (resource: string, lines: string | Record<number, string>) => {
      fs.writeFileSync(path.join(s.state, `crd.${resource}`), "");
      if (typeof lines === "string") fs.writeFileSync(path.join(s.state, `storage.${resource}`), lines);
      else for (const [n, text] of Object.entries(lines)) fs.writeFileSync(path.join(s.state, `storage.${resource}.${n}`), text);
    };
    return { s, node, read, step, storage };
  }
  const A1 = "VM.Standard.A1.Flex 2 OCPU 12 GB";
  const OLD = "v1.34.9+k3s1";
  const NEW = "v1.35.2+k3s1";
  const running = (version = OLD, machine = A1) => ({
    version,
    ready: "True",
    bootid: "boot-1",
    "ann.oci-k8s.io/machine": machine,
  });

  it("leaves alone a cluster not yet installed, a new node, and a node already on the version and machine", () => {
    const c = cluster();
    fs.rmSync(path.join(c.s.root, KUBECONFIG_PATH));
    assert.match(c.step("drain", "server-1", NEW, A1).stderr, /no cluster on this server yet; nothing to drain/);
    fs.writeFileSync(path.join(c.s.root, KUBECONFIG_PATH), "admin");
    assert.match(c.step("drain", "agent-9", NEW, A1).stderr, /not in the cluster yet; nothing to drain/);
    c.node("agent-1", running(NEW));
    const same = c.step("drain", "agent-1", NEW, A1);
    assert.equal(same.status, 0);
    assert.match(same.stderr, /already runs v1\.35\.2\+k3s1 on VM\.Standard\.A1\.Flex 2 OCPU 12 GB; nothing to drain/);
    assert.ok(!c.s.calls().some((x) => x.startsWith("kubectl drain") || x.startsWith("kubectl cordon")));
  });

  it("drains a node on another version, and uncordons it once it is Ready on the new one", () => {
    const c = cluster();
    c.node("agent-1", running());
    const drained = c.step("drain", "agent-1", NEW, A1);
    assert.equal(drained.status, 0, drained.stderr);
    assert.match(drained.stderr, /changes \(version v1\.34\.9\+k3s1 -> v1\.35\.2\+k3s1\); draining it/);
    assert.ok(
      c.s.calls().some((x) => x.startsWith("kubectl drain agent-1 --ignore-daemonsets --delete-emptydir-data --timeout=")),
    );
    assert.equal(c.read("agent-1", "unschedulable"), "true");
    // Still on the old version: not back yet.
    const early = c.step("uncordon", "agent-1", NEW, A1);
    assert.equal(early.status, 1);
    assert.match(
      early.stderr,
      /node agent-1 did not come back Ready on v1\.35\.2\+k3s1; the rollout stops here and the node stays cordoned/,
    );
    assert.match(early.stderr, /pulumi up resumes with this node/);
    assert.equal(c.read("agent-1", "unschedulable"), "true");
    // The install upgraded it: the rerun resumes and finishes.
    c.node("agent-1", { version: NEW });
    const done = c.step("uncordon", "agent-1", NEW, A1);
    assert.equal(done.status, 0, done.stderr);
    assert.equal(c.read("agent-1", "unschedulable"), undefined);
    assert.equal(c.read("agent-1", "ann.oci-k8s.io/drained"), undefined);
  });

  it("says so when the node it waits for is no node of this cluster at all, rather than not Ready", () => {
    const c = cluster();
    const missing = c.step("uncordon", "server-2", NEW, A1);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /node server-2 is not a node of the cluster this server's API serves; the rollout stops here/);
    assert.match(missing.stderr, /joined another cluster/);
    assert.doesNotMatch(missing.stderr, /did not come back Ready/);
  });

  it("keeps a node cordoned by hand cordoned; with rolloutForce, goes on when a drain cannot finish", () => {
    const c = cluster();
    c.node("agent-1", { ...running(), unschedulable: "true" });
    const r = c.step("drain", "agent-1", NEW, A1, { FAKE_DRAIN_STATUS: "1" }, "true");
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /WARNING: draining agent-1 did not finish within 600s; going on because rolloutForce is true: the pods left restart with the node/,
    );
    c.node("agent-1", { version: NEW });
    assert.equal(c.step("uncordon", "agent-1", NEW, A1).status, 0);
    assert.equal(c.read("agent-1", "unschedulable"), "true", "a node cordoned by hand was uncordoned");
  });

  // Kubespray fails the upgrade of a node whose drain fails, by default: roles/upgrade/pre-upgrade/
  // defaults/main.yml (kubespray commit 1ac8259) sets upgrade_node_fail_if_drain_fails: true.
  it("a drain that times out stops the rollout with the node cordoned; the rerun drains it again and goes on", () => {
    const c = cluster();
    c.node("agent-1", running());
    // The stack's rolloutDrainTimeout is kubectl drain's --timeout.
    const r = c.step("drain", "agent-1", NEW, A1, { FAKE_DRAIN_STATUS: "1" }, "false", { DRAIN_TIMEOUT: "45s" });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(
      c.s.calls().includes("kubectl drain agent-1 --ignore-daemonsets --delete-emptydir-data --timeout=45s"),
      c.s.calls().join("\n"),
    );
    assert.match(
      r.stderr,
      /FAILED: draining agent-1 did not finish within 45s; the rollout stops here and the node stays cordoned/,
    );
    assert.match(
      r.stderr,
      /try: .*kubectl get pdb -A.*pulumi up resumes with this node; a drain that only needs longer takes a larger rolloutDrainTimeout; .*rolloutForce: true/,
    );
    assert.equal(c.read("agent-1", "unschedulable"), "true");
    assert.equal(c.read("agent-1", "ann.oci-k8s.io/drained"), "true", "the rerun would not uncordon it");
    // The budget lets go (replicas moved): pulumi up runs the drain again, then the uncordon undoes our cordon.
    assert.equal(c.step("drain", "agent-1", NEW, A1).status, 0);
    c.node("agent-1", { version: NEW });
    assert.equal(c.step("uncordon", "agent-1", NEW, A1).status, 0);
    assert.equal(c.read("agent-1", "unschedulable"), undefined);
  });

  // Field paths: Rook's CephCluster .status.ceph.health (rook Documentation/Upgrade/health-verification.md:
  // begin with HEALTH_OK; Argo CD's ceph.rook.io/CephCluster health check reads obj.status.ceph.health),
  // Longhorn's Volume .status.state / .status.robustness (longhorn-manager k8s/pkg/apis/longhorn/v1beta2/volume.go).
  it("waits for Ceph HEALTH_OK and healthy attached Longhorn volumes after a node is back and before the next drains", () => {
    const c = cluster();
    c.node("agent-1", running());
    c.storage("cephclusters.ceph.rook.io", {
      1: "rook-ceph/ceph HEALTH_OK\n",
      2: "rook-ceph/ceph HEALTH_WARN\n",
      3: "rook-ceph/ceph HEALTH_OK\n",
    });
    c.storage("volumes.longhorn.io", "longhorn-system/pvc-1 attached healthy\nlonghorn-system/pvc-2 detached unknown\n");
    assert.equal(c.step("drain", "agent-1", NEW, A1).status, 0);
    c.node("agent-1", { version: NEW });
    // Ceph recovers on the second look after the node is back.
    const back = c.step("uncordon", "agent-1", NEW, A1);
    assert.equal(back.status, 0, back.stderr);
    assert.match(
      back.stderr,
      /waiting for the storage to be healthy after node agent-1 came back: CephCluster rook-ceph\/ceph is HEALTH_WARN/,
    );
    assert.equal(c.read("agent-1", "unschedulable"), undefined, "replicas rebuild on an uncordoned node");
    // A degraded Longhorn volume that never recovers: the next node is not drained, the rollout stops.
    c.node("agent-2", running());
    c.storage("volumes.longhorn.io", "longhorn-system/pvc-1 attached degraded\n");
    const next = c.step("drain", "agent-2", NEW, A1);
    assert.equal(next.status, 1);
    assert.match(
      next.stderr,
      /FAILED: the storage is not healthy before node agent-2 is drained \(Longhorn volume longhorn-system\/pvc-1 is degraded\); the rollout stops here/,
    );
    assert.match(next.stderr, /try: .*once healthy, pulumi up resumes with node agent-2/);
    assert.ok(!c.s.calls().some((x) => x.startsWith("kubectl cordon agent-2") || x.startsWith("kubectl drain agent-2")));
    // The same after the node is back: its uncordon fails and the next turn never starts.
    assert.equal(c.step("uncordon", "agent-1", NEW, A1).status, 1);
    // rolloutForce goes on with a warning.
    const forced = c.step("drain", "agent-2", NEW, A1, {}, "true");
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(
      forced.stderr,
      /WARNING: the storage is not healthy before node agent-2 is drained .*going on because rolloutForce is true/,
    );
  });

  it("a stack without Rook or Longhorn is not waited for", () => {
    const c = cluster();
    c.node("agent-1", running());
    assert.equal(c.step("drain", "agent-1", NEW, A1).status, 0);
    assert.ok(!c.s.calls().some((x) => x.includes("cephclusters.ceph.rook.io -A") || x.includes("volumes.longhorn.io -A")));
  });

  it("after a machine change, waits for the node to have rebooted before uncordoning it", () => {
    const c = cluster();
    const bigger = "VM.Standard.A1.Flex 3 OCPU 18 GB";
    c.node("agent-1", running(OLD));
    const drained = c.step("drain", "agent-1", OLD, bigger);
    assert.match(drained.stderr, /machine VM\.Standard\.A1\.Flex 2 OCPU 12 GB -> VM\.Standard\.A1\.Flex 3 OCPU 18 GB/);
    assert.equal(c.read("agent-1", "ann.oci-k8s.io/reboot-from"), "boot-1");
    // Still Ready from before the resize (the same boot): not back.
    assert.equal(c.step("uncordon", "agent-1", OLD, bigger).status, 1);
    c.node("agent-1", { bootid: "boot-2" });
    const back = c.step("uncordon", "agent-1", OLD, bigger);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(c.read("agent-1", "ann.oci-k8s.io/machine"), bigger);
    assert.equal(c.read("agent-1", "ann.oci-k8s.io/reboot-from"), undefined);
    assert.equal(c.read("agent-1", "unschedulable"), undefined);
  });

  it("a rollout over three nodes stops at the one that never becomes Ready, leaves the next untouched, and a rerun resumes", () => {
    const c = cluster();
    const order = ["server-1", "agent-1", "agent-2"];
    for (const n of order) c.node(n, running());
    // Pulumi's order: each node's drain, install (here: the new version, or a broken node), uncordon;
    // a failed step stops everything after it, and a rerun runs only what did not succeed.
    const done = new Set<string>();
    const rollout = (broken: string | undefined) => {
      for (const n of order) {
        for (const action of ["drain", "install", "uncordon"] as const) {
          if (done.has(`${n}-${action}`)) continue;
          if (action === "install") c.node(n, { version: NEW, ready: n === broken ? "False" : "True" });
          else if (c.step(action, n, NEW, A1).status !== 0) return `${n}-${action}`;
          done.add(`${n}-${action}`);
        }
      }
      return undefined;
    };
    assert.equal(rollout("agent-1"), "agent-1-uncordon");
    assert.equal(c.read("agent-1", "unschedulable"), "true", "the broken node stays cordoned");
    assert.equal(c.read("agent-2", "version"), OLD, "the rollout went past a node that is not Ready");
    assert.ok(!c.s.calls().some((x) => x.includes("agent-2")), "agent-2 was touched");
    // Fixed by hand, then pulumi up again: the rollout resumes with agent-1 and finishes.
    c.node("agent-1", { ready: "True" });
    assert.equal(rollout(undefined), undefined);
    for (const n of order) {
      assert.equal(c.read(n, "version"), NEW);
      assert.equal(c.read(n, "unschedulable"), undefined, `${n} is left cordoned`);
    }
    const drains = c.s.calls().filter((x) => x.startsWith("kubectl drain"));
    assert.deepEqual(
      drains.map((x) => x.split(" ")[2]),
      order,
      "every node was drained exactly once, in order",
    );
  });
});
