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
import { kubeadmSandbox, Sandbox, sandbox, systemPath } from "./bootstrap-scripts.fixtures";

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
    "usr/local/sbin/oci-k8s-recovery",
    "etc/oci-k8s/recovery.settings",
    "etc/oci-k8s/recovery.crt",
    "etc/cron.d/oci-k8s-recovery",
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

describe("bootstrap scripts: kubeadm.sh pins the control-plane endpoint's name", () => {
  const hostsOf = (root: string) => fs.readFileSync(path.join(root, "etc/hosts"), "utf8");
  it("a joining server resolves it to the first server while joining, then to itself; a rerun changes nothing", () => {
    const s = kubeadmSandbox(
      (s) =>
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
