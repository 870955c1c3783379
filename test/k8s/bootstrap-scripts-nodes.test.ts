/**
 * The bootstrap scripts run for real under bash, exactly as sent to a node (lib.sh + script, as
 * `bash -c`), against fake distribution binaries on PATH that record their calls and can be
 * told to fail. Files the scripts write land under OCI_K8S_ROOT, a temp dir.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { encodeSettings, scriptText } from "../../k8s/bootstrap/scripts";
import { fakeBin, run, tempDir } from "../tools";
import { Sandbox, sandbox, systemPath } from "./bootstrap-scripts.fixtures";

describe("bootstrap scripts: labels, readiness, removal", () => {
  function kubectl(s: Sandbox, body: string) {
    fakeBin(s.bin, "kubectl", body);
  }

  it("label-node applies labels and taints, remembers them, and removes ones no longer wanted", () => {
    const s = sandbox();
    const ann = path.join(s.state, "annotation");
    kubectl(
      s,
      `if [[ "$1 $2" == "get node" && "$*" == *jsonpath* ]]; then cat "${ann}" 2>/dev/null; exit 0; fi
if [[ "$1" == annotate ]]; then v="\${@: -1}"; echo "\${v#oci-k8s.io/managed=}" > "${ann}"; fi`,
    );
    const settings = (labels: string, taints: string) => ({
      KUBECTL: "kubectl",
      NODE_NAME: "micro-1",
      LABELS: labels,
      TAINTS: taints,
    });
    const first = s.run(
      "label-node",
      [],
      settings("oci-k8s.io/role=agent\noci-k8s.io/micro=true", "oci-k8s.io/micro=true:NoSchedule"),
    );
    assert.equal(first.status, 0, first.stderr);
    assert.ok(s.calls().includes("kubectl label node micro-1 --overwrite oci-k8s.io/role=agent oci-k8s.io/micro=true"));
    assert.ok(s.calls().includes("kubectl taint node micro-1 --overwrite oci-k8s.io/micro=true:NoSchedule"));
    assert.equal(fs.readFileSync(ann, "utf8").trim(), "label:oci-k8s.io/role label:oci-k8s.io/micro taint:oci-k8s.io/micro");
    const second = s.run("label-node", [], settings("oci-k8s.io/role=agent", ""));
    assert.equal(second.status, 0, second.stderr);
    assert.ok(s.calls().includes("kubectl label node micro-1 oci-k8s.io/micro-"));
    assert.ok(s.calls().includes("kubectl taint node micro-1 oci-k8s.io/micro-"));
    assert.ok(!s.calls().includes("kubectl label node micro-1 oci-k8s.io/role-"));
  });

  // Issue 23.14: label values and the annotation read back from the cluster are never glob-expanded.
  it("label-node passes a label value like * as it is, and never expands the annotation against the files of its directory", () => {
    const s = sandbox();
    const ann = path.join(s.state, "annotation");
    // What somebody with access to the node object wrote into the annotation.
    fs.writeFileSync(ann, "label:* label:oci-k8s.io/ro?e taint:[a-z]*\n");
    kubectl(
      s,
      `if [[ "$1 $2" == "get node" && "$*" == *jsonpath* ]]; then cat "${ann}" 2>/dev/null; exit 0; fi
if [[ "$1" == annotate ]]; then v="\${@: -1}"; echo "\${v#oci-k8s.io/managed=}" > "${ann}"; fi`,
    );
    const cwd = tempDir("label-cwd");
    for (const f of ["label:a", "label:b", "label:oci-k8s.io", "taint:c"]) fs.mkdirSync(path.join(cwd, f));
    fs.writeFileSync(path.join(cwd, "label:oci-k8s.io", "role"), "");
    const r = run("bash", ["-c", scriptText("label-node"), "label-node"], {
      input: encodeSettings({
        KUBECTL: "kubectl",
        NODE_NAME: "micro-1",
        LABELS: "oci-k8s.io/role=*\noci-k8s.io/x=a*",
        TAINTS: "",
      }),
      env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root, OCI_K8S_RETRY_DELAY: "0" },
      cwd,
    });
    assert.equal(r.status, 0, r.stderr);
    const calls = s.calls();
    assert.ok(calls.includes("kubectl label node micro-1 --overwrite oci-k8s.io/role=* oci-k8s.io/x=a*"), calls.join("\n"));
    for (const expanded of ["a-", "b-", "c-", "oci-k8s.io/role-"])
      assert.ok(!calls.some((c) => c.endsWith(` ${expanded}`)), `a glob matched a file: ${calls.join("\n")}`);
    assert.ok(calls.includes("kubectl label node micro-1 *-"), "the stale key is removed by its own name");
    assert.ok(calls.includes("kubectl label node micro-1 oci-k8s.io/ro?e-"));
  });

  it("wait-ready waits for each node and names the one that never becomes Ready", () => {
    const s = sandbox();
    kubectl(
      s,
      `n=$(( $(cat "${s.state}/$3" 2>/dev/null || echo 0) + 1 )); echo $n > "${s.state}/$3"
[[ "$3" == good && $n -ge 3 ]] && echo True || echo False`,
    );
    const ok = s.run("wait-ready", [], { KUBECTL: "kubectl", NODES: "good" });
    assert.equal(ok.status, 0, ok.stderr);
    const bad = s.run("wait-ready", [], { KUBECTL: "kubectl", NODES: "good\nbroken" }, { OCI_K8S_READY_ATTEMPTS: "3" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /node broken did not become Ready\n.*kubectl describe node broken/);
  });

  it("remove-node drains and deletes only the node with the departing address", () => {
    const s = sandbox();
    kubectl(s, `[[ "$1" == get ]] && echo "\${FAKE_NODE_IP:-}"; exit 0`);
    const gone = s.run("remove-node", ["agent-1", "10.0.0.20", "agent", "k3s", "kubectl"], {}, { FAKE_NODE_IP: "10.0.0.20" });
    assert.equal(gone.status, 0, gone.stderr);
    assert.ok(s.calls().some((c) => c.startsWith("kubectl drain agent-1 --ignore-daemonsets")));
    assert.ok(s.calls().includes("kubectl delete node agent-1 --wait=false"));
    const s2 = sandbox();
    kubectl(s2, `[[ "$1" == get ]] && echo "\${FAKE_NODE_IP:-}"; exit 0`);
    const replaced = s2.run(
      "remove-node",
      ["agent-1", "10.0.0.20", "agent", "k3s", "kubectl"],
      {},
      { FAKE_NODE_IP: "10.0.0.99" },
    );
    assert.equal(replaced.status, 0);
    assert.match(replaced.stderr, /a replacement/);
    assert.ok(!s2.calls().some((c) => c.startsWith("kubectl drain") || c.startsWith("kubectl delete")));
  });

  it("remove-node takes a k3s/RKE2 server's etcd member out by deleting the node and waiting for it; a stuck removal fails", () => {
    for (const dist of ["k3s", "rke2"]) {
      const s = sandbox();
      kubectl(s, `[[ "$1" == get ]] && echo 10.0.0.12; [[ "$1" == delete ]] && exit "\${FAKE_DELETE_STATUS:-0}"; exit 0`);
      const r = s.run("remove-node", ["server-2", "10.0.0.12", "server", dist, "kubectl"]);
      assert.equal(r.status, 0, r.stderr);
      // The deletion is waited for: the distribution's finalizer removes the etcd member first.
      assert.ok(s.calls().includes("kubectl delete node server-2 --timeout=300s"), s.calls().join("\n"));
      assert.match(r.stderr, /server server-2 and its etcd member removed/);
      const stuck = s.run("remove-node", ["server-2", "10.0.0.12", "server", dist, "kubectl"], {}, { FAKE_DELETE_STATUS: "1" });
      assert.equal(stuck.status, 1, "a server whose member was not removed must stop the replacement");
      assert.match(stuck.stderr, /etcd member of server-2 was not removed[\s\S]*the instance is kept until this succeeds/);
    }
  });

  it("remove-node removes a kubeadm server's etcd member through another server's etcd before deleting the node", () => {
    const s = sandbox();
    kubectl(
      s,
      `case "$*" in
  "get node"*) echo 10.0.0.12 ;;
  *"get pods -l component=etcd"*) echo etcd-server-1 ;;
  *"member list"*) printf '8e9e05c52164694d, started, server-1, https://10.0.0.10:2380, https://10.0.0.10:2379, false\\n2f6b9a1c03d4e5f7, started, server-2, https://10.0.0.12:2380, https://10.0.0.12:2379, false\\n' ;;
esac`,
    );
    const r = s.run("remove-node", ["server-2", "10.0.0.12", "server", "kubeadm", "kubectl"]);
    assert.equal(r.status, 0, r.stderr);
    const calls = s.calls();
    const remove = calls.findIndex((c) => c.includes("member remove 2f6b9a1c03d4e5f7"));
    const del = calls.indexOf("kubectl delete node server-2 --wait=false");
    assert.ok(remove > 0 && del > remove, calls.join("\n"));
    assert.ok(
      calls.some((c) => c.includes("get pods -l component=etcd --field-selector spec.nodeName!=server-2,status.phase=Running")),
    );
    assert.ok(
      calls[remove].startsWith("kubectl -n kube-system exec etcd-server-1 -- etcdctl --endpoints=https://127.0.0.1:2379"),
    );
  });

  it("uninstall runs the distribution's own uninstaller", () => {
    const s = sandbox();
    const script = path.join(s.root, "usr/local/bin/k3s-agent-uninstall.sh");
    fs.mkdirSync(path.dirname(script), { recursive: true });
    fs.writeFileSync(script, `#!/usr/bin/env bash\ntouch "${s.state}/uninstalled"\n`, { mode: 0o755 });
    const r = s.run("uninstall", ["k3s"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(s.state, "uninstalled")));
  });
});

describe("bootstrap scripts: uninstall.sh removes what the program wrote", () => {
  const write = (root: string, file: string, text = "x") => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  const WRITTEN = [
    "usr/local/sbin/oci-k8s-etcd-restore",
    "usr/local/sbin/oci-k8s-etcd-drill",
    "etc/oci-k8s/etcd-restore.settings",
    "etc/oci-k8s/etcd-drill.env",
    "etc/cron.d/oci-k8s-etcd-drill",
    "usr/local/lib/oci-k8s/etcd-v3.6.14/etcd",
    "var/lib/node_exporter/textfile/etcd_drill.prom",
  ];

  // Issue 20.16: rancher.sh writes /etc/rancher/<dist>/config.yaml (with the token) before it
  // downloads the installer, so a failed first install leaves the token and no uninstall script.
  for (const dist of ["k3s", "rke2"] as const) {
    it(`${dist}: after a failed first install (no uninstall script), the token's config and the tools are removed; a rerun is harmless`, () => {
      const s = sandbox();
      write(s.root, `etc/rancher/${dist}/config.yaml`, "token: SecretToken\n");
      for (const f of WRITTEN) write(s.root, f);
      write(s.root, "var/lib/oci-k8s/etcd-snapshots/etcd-snapshot-a.db");
      for (let i = 0; i < 2; i++) {
        const r = s.run("uninstall", [dist]);
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /SecretToken/);
      }
      assert.ok(!fs.existsSync(path.join(s.root, "etc/rancher")), "the token's config is left");
      for (const f of WRITTEN) assert.ok(!fs.existsSync(path.join(s.root, f)), `${f} is left`);
      assert.ok(!fs.existsSync(path.join(s.root, "usr/local/lib/oci-k8s")));
      assert.ok(fs.existsSync(path.join(s.root, "var/lib/oci-k8s/etcd-snapshots/etcd-snapshot-a.db")), "a snapshot was deleted");
    });
  }

  it("kubeadm: reset, then its configuration, paused manifests and the endpoint pin in /etc/hosts and in cloud-init's hosts templates go; other lines stay", () => {
    const s = sandbox();
    fakeBin(s.bin, "kubeadm");
    write(s.root, "etc/kubernetes/oci-k8s/kubeadm.yaml", "bootstrapTokens: secret\n");
    write(s.root, "etc/kubernetes/oci-k8s-paused/etcd.yaml");
    write(s.root, "etc/hosts", "127.0.0.1 localhost\n10.0.0.10 kube-api.c.internal # oci-k8s control-plane endpoint\n");
    // kubeadm.sh pins it in cloud-init's hosts templates too (manage_etc_hosts renders them at boot).
    const template = "## template:jinja\n127.0.0.1 localhost\n";
    write(
      s.root,
      "etc/cloud/templates/hosts.debian.tmpl",
      `${template}10.0.0.10 kube-api.c.internal # oci-k8s control-plane endpoint\n`,
    );
    const r = s.run("uninstall", ["kubeadm"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(s.calls().includes("kubeadm reset -f"));
    assert.ok(!fs.existsSync(path.join(s.root, "etc/kubernetes/oci-k8s")));
    assert.ok(!fs.existsSync(path.join(s.root, "etc/kubernetes/oci-k8s-paused")));
    assert.equal(fs.readFileSync(path.join(s.root, "etc/hosts"), "utf8"), "127.0.0.1 localhost\n");
    assert.equal(fs.readFileSync(path.join(s.root, "etc/cloud/templates/hosts.debian.tmpl"), "utf8"), template);
  });
});

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
    ) =>
      s.run(
        "rollout",
        [action],
        { KUBECTL: "kubectl", KUBECONFIG_PATH, NODE_NAME: name, VERSION: version, MACHINE: machine, FORCE: force },
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
    const r = c.step("drain", "agent-1", NEW, A1, { FAKE_DRAIN_STATUS: "1" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stderr,
      /FAILED: draining agent-1 did not finish within 600s; the rollout stops here and the node stays cordoned/,
    );
    assert.match(r.stderr, /try: .*kubectl get pdb -A.*pulumi up resumes with this node.*rolloutForce: true/);
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

describe("bootstrap scripts: kubeadm.sh pins the control-plane endpoint's name", () => {
  const hostsOf = (root: string) => fs.readFileSync(path.join(root, "etc/hosts"), "utf8");
  it("a joining server resolves it to the first server while joining, then to itself; a rerun changes nothing", () => {
    const s = sandbox();
    for (const name of ["apt-get", "apt-mark", "gpg", "curl", "containerd", "kubectl"]) fakeBin(s.bin, name);
    fakeBin(s.bin, "kubelet", `echo "Kubernetes v1.34.9"`);
    fakeBin(
      s.bin,
      "kubeadm",
      `grep -q "10.0.0.2 kube-api.c.internal" "${s.root}/etc/hosts" || { echo "joined without the endpoint pinned" >&2; exit 9; }
mkdir -p "${s.root}/etc/kubernetes" && echo kubelet > "${s.root}/etc/kubernetes/kubelet.conf" && touch "${s.state}/active-kubelet"`,
    );
    fs.mkdirSync(path.join(s.root, "etc"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/hosts"), "127.0.0.1 localhost\n");
    const settings = {
      VERSION: "v1.34.9",
      CONFIG: "kind: JoinConfiguration",
      API_NAME: "kube-api.c.internal",
      API_ADDRESS: "10.0.0.2",
      API_ADDRESS_JOINED: "10.0.0.3",
    };
    const r = s.run("kubeadm", ["join"], settings);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(hostsOf(s.root), "127.0.0.1 localhost\n10.0.0.3 kube-api.c.internal # oci-k8s control-plane endpoint\n");
    const again = s.run("kubeadm", ["join"], settings);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(hostsOf(s.root), "127.0.0.1 localhost\n10.0.0.3 kube-api.c.internal # oci-k8s control-plane endpoint\n");
  });
});
