/**
 * The bootstrap scripts run for real under bash, exactly as sent to a node (lib.sh + script, as
 * `bash -c`), against fake distribution binaries on PATH that record their calls and can be
 * told to fail. Files the scripts write land under OCI_K8S_ROOT, a temp dir.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { encodeSettings, scriptText, ScriptName } from "../k8s/bootstrap/scripts";
import { calls, fakeBin, Run, run, SCRIPT_TOOLS, systemTools, tempDir } from "./tools";

// Fakes first, then only the named system tools: a real etcdctl (or kubectl, curl ...) on the
// test machine is never found by a script under test.
let systemDir = "";
const systemPath = () => (systemDir ||= systemTools(SCRIPT_TOOLS));

const TOKEN = "SecretClusterTokenThatMustNeverBePrinted0123456789";

interface Sandbox {
  readonly root: string;
  readonly bin: string;
  readonly state: string;
  run(name: ScriptName, args: string[], settings?: Record<string, string>, env?: Record<string, string>): Run;
  calls(): string[];
}

function sandbox(): Sandbox {
  const dir = tempDir("bootstrap");
  const root = path.join(dir, "root");
  const bin = path.join(dir, "bin");
  const state = path.join(dir, "state");
  for (const d of [root, bin, state]) fs.mkdirSync(d);
  // systemctl: enable/restart make a service active; is-active answers from that state.
  fakeBin(
    bin,
    "systemctl",
    `case "$1" in
  restart) touch "${state}/active-$2" ;;
  is-active) [[ -e "${state}/active-\${@: -1}" ]] ;;
  *) exit 0 ;;
esac`,
  );
  return {
    root,
    bin,
    state,
    run: (name, args, settings = {}, env = {}) =>
      run("bash", ["-c", scriptText(name), name, ...args], {
        input: encodeSettings(settings),
        env: { PATH: `${bin}:${systemPath()}`, OCI_K8S_ROOT: root, OCI_K8S_RETRY_DELAY: "0", FAKE_STATE: state, ...env },
      }),
    calls: () => calls(bin),
  };
}

/** curl that "downloads" an installer which installs a fake k3s/rke2 binary. */
function fakeRancher(s: Sandbox, dist: "k3s" | "rke2") {
  const versionVar = dist === "k3s" ? "INSTALL_K3S_VERSION" : "INSTALL_RKE2_VERSION";
  fakeBin(
    s.bin,
    "curl",
    `out=""; while [[ $# -gt 0 ]]; do [[ "$1" == -o ]] && out="$2"; shift; done
cat > "$out" <<'INSTALLER'
echo "installer $${versionVar}" >> "$FAKE_STATE/installs"
if [ -n "\${FAKE_INSTALL_FAIL:-}" ]; then echo "downloading binary failed" >&2; exit 7; fi
cat > "${s.bin}/${dist}" <<BINARY
#!/usr/bin/env bash
echo "${dist} \\$*" >> "${s.bin}/calls.log"
if [[ "\\$1" == --version ]]; then echo "${dist} version $${versionVar} (fake)"; exit 0; fi
if [[ "\\$*" == *readyz* ]]; then
  n=\\$(( \\$(cat "$FAKE_STATE/readyz" 2>/dev/null || echo 0) + 1 )); echo \\$n > "$FAKE_STATE/readyz"
  [[ \\$n -ge \\\${FAKE_READY_AFTER:-1} ]]
fi
BINARY
chmod +x "${s.bin}/${dist}"
INSTALLER`.replace(/\$\$\{versionVar\}/g, `$${versionVar}`),
  );
}

const installs = (s: Sandbox) =>
  fs.existsSync(path.join(s.state, "installs")) ? fs.readFileSync(path.join(s.state, "installs"), "utf8").trim().split("\n") : [];
const k3sServer = (version = "v1.34.9+k3s1", config = `token: ${TOKEN}\nnode-name: server-1\ncluster-init: true`) => ({
  VERSION: version,
  CONFIG: config,
  KUBECTL: "k3s kubectl",
});

describe("bootstrap scripts: rancher.sh (k3s, RKE2)", () => {
  it("installs the pinned k3s on a first run, writes a root-only config, and waits for the API", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const r = s.run("rancher", ["k3s", "server"], k3sServer());
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(installs(s), ["installer v1.34.9+k3s1"]);
    assert.ok(
      s.calls().some((c) => c.startsWith("curl -sfL https://raw.githubusercontent.com/k3s-io/k3s/v1.34.9%2Bk3s1/install.sh")),
    );
    const config = path.join(s.root, "etc/rancher/k3s/config.yaml");
    assert.equal(fs.readFileSync(config, "utf8"), `${k3sServer().CONFIG}\n`);
    assert.equal(fs.statSync(config).mode & 0o777, 0o600);
    assert.ok(s.calls().includes("systemctl enable k3s"));
    assert.ok(s.calls().includes("k3s kubectl get --raw=/readyz"));
    assert.ok(!(r.stdout + r.stderr).includes(TOKEN), "the token was printed");
  });

  it("a second run with the same settings is a no-op", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    assert.equal(s.run("rancher", ["k3s", "server"], k3sServer()).status, 0);
    const before = s.calls().length;
    const r = s.run("rancher", ["k3s", "server"], k3sServer());
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /already installed and configured; nothing to do/);
    const second = s.calls().slice(before);
    assert.deepEqual(installs(s).length, 1, "installed twice");
    assert.ok(!second.some((c) => c.startsWith("curl") || c.startsWith("systemctl restart")), second.join("\n"));
  });

  it("waits for an API that answers only on the fourth try", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const r = s.run("rancher", ["k3s", "server"], k3sServer(), { FAKE_READY_AFTER: "4" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(s.calls().filter((c) => c.includes("readyz")).length, 4);
  });

  it("a failing install exits non-zero saying what failed and what to try", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const r = s.run("rancher", ["k3s", "server"], k3sServer(), { FAKE_INSTALL_FAIL: "1" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /FAILED: the k3s v1\.34\.9\+k3s1 installer exited with status 7/);
    assert.match(r.stderr, /try: read its output above and 'journalctl -u k3s'/);
  });

  it("an API that never answers fails with advice", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const r = s.run("rancher", ["k3s", "server"], k3sServer(), { FAKE_READY_AFTER: "1000" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAILED: the Kubernetes API on this server did not become ready/);
  });

  it("a changed config restarts the service without reinstalling; a new version reinstalls (upgrade)", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    s.run("rancher", ["k3s", "server"], k3sServer());
    const changed = s.run(
      "rancher",
      ["k3s", "server"],
      k3sServer("v1.34.9+k3s1", `token: ${TOKEN}\nnode-name: server-1\ncluster-init: true\ndebug: true`),
    );
    assert.equal(changed.status, 0, changed.stderr);
    assert.match(changed.stderr, /configuration changed; restarting k3s/);
    assert.equal(installs(s).length, 1);
    const upgraded = s.run("rancher", ["k3s", "server"], k3sServer("v1.34.10+k3s1"));
    assert.equal(upgraded.status, 0, upgraded.stderr);
    assert.deepEqual(installs(s), ["installer v1.34.9+k3s1", "installer v1.34.10+k3s1"]);
  });

  it("joins an RKE2 agent: pinned installer, agent service enabled and active", () => {
    const s = sandbox();
    fakeRancher(s, "rke2");
    const r = s.run("rancher", ["rke2", "agent"], {
      VERSION: "v1.34.9+rke2r1",
      CONFIG: `server: https://10.0.0.10:9345\ntoken: ${TOKEN}`,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(s.calls().some((c) => c.includes("https://raw.githubusercontent.com/rancher/rke2/v1.34.9%2Brke2r1/install.sh")));
    assert.ok(s.calls().includes("systemctl enable rke2-agent"));
    assert.ok(s.calls().includes("systemctl is-active --quiet rke2-agent"));
    assert.ok(fs.existsSync(path.join(s.root, "etc/rancher/rke2/config.yaml")));
  });

  it("installs an etcd-only member as a server whose readiness is its service, not an API it does not run", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const config = `token: ${TOKEN}\nserver: https://10.0.0.10:6443\ndisable-apiserver: true`;
    const r = s.run("rancher", ["k3s", "etcd"], { VERSION: "v1.34.9+k3s1", CONFIG: config });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(s.calls().includes("systemctl enable k3s"), s.calls().join("\n"));
    assert.ok(s.calls().includes("systemctl is-active --quiet k3s"));
    assert.ok(!s.calls().some((c) => c.includes("readyz")), "waited for an API an etcd-only member does not serve");
    assert.match(fs.readFileSync(path.join(s.state, "installs"), "utf8"), /installer v1\.34\.9\+k3s1/);
    const rke2 = sandbox();
    fakeRancher(rke2, "rke2");
    const joined = rke2.run("rancher", ["rke2", "etcd"], { VERSION: "v1.34.9+rke2r1", CONFIG: config });
    assert.equal(joined.status, 0, joined.stderr);
    assert.ok(rke2.calls().includes("systemctl enable rke2-server"));
  });

  it("refuses malformed settings", () => {
    const s = sandbox();
    const r = run("bash", ["-c", scriptText("rancher"), "rancher", "k3s", "server"], {
      input: "lower=dmFsdWU=\n",
      env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /malformed key 'lower'/);
  });
});

describe("bootstrap scripts: wait-host.sh", () => {
  const marker = "/var/lib/oci-k8s/host-ready";
  function setup(status: number | "absent", withMarker: boolean) {
    const s = sandbox();
    if (status !== "absent") fakeBin(s.bin, "cloud-init", `exit ${status}`);
    if (withMarker) {
      fs.mkdirSync(path.join(s.root, path.dirname(marker)), { recursive: true });
      fs.writeFileSync(path.join(s.root, marker), "2026-11-22T04:00:00Z\n");
    }
    return s.run("wait-host", [marker]);
  }

  it("passes when cloud-init is done and the marker exists", () => {
    const r = setup(0, true);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /host ready since 2026-11-22T04:00:00Z/);
  });

  it("fails with advice when cloud-init failed", () => {
    const r = setup(1, true);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cloud-init failed \(status 1\).*\n.*cloud-init-output\.log/);
  });

  it("on an existing machine without cloud-init, the marker alone decides", () => {
    assert.equal(setup("absent", true).status, 0);
    assert.equal(setup("absent", false).status, 1);
  });

  it("fails when host preparation left no marker", () => {
    const r = setup(0, false);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /host preparation did not complete.*\n.*oci-k8s-host-prep/);
  });
});

describe("bootstrap scripts: kubeadm.sh", () => {
  function setup() {
    const s = sandbox();
    const st = s.state;
    fakeBin(
      s.bin,
      "apt-get",
      `for a in "$@"; do
  case "$a" in kubeadm=* | kubelet=*) echo "v\${a#*=}" | sed 's/-1\\.1$//' > "${st}/\${a%%=*}-version" ;; esac
done; exit 0`,
    );
    fakeBin(s.bin, "kubelet", `echo "Kubernetes $(cat "${st}/kubelet-version" 2>/dev/null)"`);
    for (const name of ["apt-mark", "gpg", "curl"]) fakeBin(s.bin, name);
    fakeBin(s.bin, "containerd", `echo "SystemdCgroup = false"`);
    fakeBin(s.bin, "kubectl");
    fakeBin(
      s.bin,
      "kubeadm",
      `case "$1 $2" in
  "version -o") cat "${st}/kubeadm-version" 2>/dev/null || true ;;
  "init --config") mkdir -p "${s.root}/etc/kubernetes" && echo admin > "${s.root}/etc/kubernetes/admin.conf" ;;
  "join --config") mkdir -p "${s.root}/etc/kubernetes" && echo kubelet > "${s.root}/etc/kubernetes/kubelet.conf" && touch "${st}/active-kubelet" ;;
  "token create") echo "kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:${"2".repeat(64)}" ;;
  "upgrade apply" | "upgrade node") [[ -z "\${FAKE_UPGRADE_FAIL:-}" ]] ;;
  "init phase") printf '[upload-certs] Using certificate key:\\n${"a".repeat(64)}\\n' ;;
esac`,
    );
    return s;
  }
  const initSettings = {
    VERSION: "v1.34.9",
    CONFIG: "kind: InitConfiguration",
    CNI_MANIFEST: "https://example.invalid/kube-flannel.yml",
  };

  it("init installs pinned packages once, initialises once, applies the CNI; a second run is a no-op", () => {
    const s = setup();
    const first = s.run("kubeadm", ["init"], initSettings);
    assert.equal(first.status, 0, first.stderr);
    assert.ok(
      s
        .calls()
        .some((c) =>
          c.includes(
            "apt-get -o DPkg::Lock::Timeout=60 install -y -q --allow-change-held-packages kubelet=1.34.9-1.1 kubeadm=1.34.9-1.1 kubectl=1.34.9-1.1",
          ),
        ),
    );
    assert.ok(s.calls().includes("apt-mark hold kubelet kubeadm kubectl"));
    assert.match(fs.readFileSync(path.join(s.root, "etc/containerd/config.toml"), "utf8"), /SystemdCgroup = true/);
    assert.equal(s.calls().filter((c) => c.startsWith("kubeadm init --config")).length, 1);
    assert.ok(
      s
        .calls()
        .some((c) => c.startsWith("kubectl --kubeconfig") && c.includes("apply -f https://example.invalid/kube-flannel.yml")),
    );
    const before = s.calls().length;
    const second = s.run("kubeadm", ["init"], initSettings);
    assert.equal(second.status, 0, second.stderr);
    const again = s.calls().slice(before);
    assert.ok(
      !again.some((c) => c.startsWith("apt-get -o DPkg::Lock::Timeout=60 install") || c.startsWith("kubeadm init")),
      again.join("\n"),
    );
  });

  it("join-material prints a fresh token, the CA hash and (for servers) a certificate key as settings lines", () => {
    const s = setup();
    const decode = (out: string) =>
      Object.fromEntries(
        out
          .trim()
          .split("\n")
          .map((l) => [l.split("=")[0], Buffer.from(l.slice(l.indexOf("=") + 1), "base64").toString()]),
      );
    const server = s.run("kubeadm", ["join-material", "server"], { VERSION: "v1.34.9" });
    assert.equal(server.status, 0, server.stderr);
    assert.deepEqual(decode(server.stdout), {
      JOIN_TOKEN: "abcdef.0123456789abcdef",
      CA_CERT_HASH: `sha256:${"2".repeat(64)}`,
      CERTIFICATE_KEY: "a".repeat(64),
    });
    assert.ok(s.calls().includes("kubeadm token create --ttl 15m --print-join-command"));
    const agent = s.run("kubeadm", ["join-material", "agent"], { VERSION: "v1.34.9" });
    assert.deepEqual(Object.keys(decode(agent.stdout)), ["JOIN_TOKEN", "CA_CERT_HASH"]);
  });

  it("revoke deletes the used token and the uploaded certificates", () => {
    const s = setup();
    const r = s.run("kubeadm", ["revoke"], { VERSION: "v1.34.9", KUBECTL: "kubectl", JOIN_TOKEN: "abcdef.0123456789abcdef" });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(s.calls().includes("kubeadm token delete abcdef"));
    assert.ok(s.calls().some((c) => c.includes("-n kube-system delete secret kubeadm-certs --ignore-not-found")));
    assert.ok(!(r.stdout + r.stderr).includes("0123456789abcdef"), "the token secret was printed");
  });

  it("join joins once and deletes its token-bearing config afterwards", () => {
    const s = setup();
    const r = s.run("kubeadm", ["join"], {
      VERSION: "v1.34.9",
      CONFIG: "kind: JoinConfiguration\ntoken: abcdef.0123456789abcdef",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(path.join(s.root, "etc/kubernetes/oci-k8s/join.yaml")), false);
    const again = s.run("kubeadm", ["join"], { VERSION: "v1.34.9", CONFIG: "kind: JoinConfiguration" });
    assert.match(again.stderr, /already joined[\s\S]*kubelet already runs v1\.34\.9; nothing to upgrade/);
    assert.equal(s.calls().filter((c) => c.startsWith("kubeadm join")).length, 1);
  });

  const after = (calls: string[], earlier: string, later: string) => {
    const a = calls.findIndex((c) => c.startsWith(earlier));
    const b = calls.findIndex((c) => c.startsWith(later));
    assert.ok(a >= 0 && b > a, `expected "${earlier}" before "${later}" in:\n${calls.join("\n")}`);
  };

  it("upgrades a running control plane in kubeadm's order: kubeadm, upgrade apply, then kubelet and kubectl", () => {
    const s = setup();
    assert.equal(s.run("kubeadm", ["init"], initSettings).status, 0);
    const before = s.calls().length;
    const up = s.run("kubeadm", ["init"], { ...initSettings, VERSION: "v1.35.1" });
    assert.equal(up.status, 0, up.stderr);
    const calls = s.calls().slice(before);
    assert.match(up.stderr, /upgrading this node from v1\.34\.9 to v1\.35\.1/);
    // The v1.35 package repository replaces v1.34's.
    assert.match(fs.readFileSync(path.join(s.root, "etc/apt/sources.list.d/kubernetes.list"), "utf8"), /stable:\/v1\.35\/deb/);
    after(
      calls,
      "apt-get -o DPkg::Lock::Timeout=60 install -y -q --allow-change-held-packages kubeadm=1.35.1-1.1",
      "kubeadm upgrade apply -y v1.35.1",
    );
    after(
      calls,
      "kubeadm upgrade apply -y v1.35.1",
      "apt-get -o DPkg::Lock::Timeout=60 install -y -q --allow-change-held-packages kubelet=1.35.1-1.1 kubectl=1.35.1-1.1",
    );
    after(
      calls,
      "apt-get -o DPkg::Lock::Timeout=60 install -y -q --allow-change-held-packages kubelet=1.35.1-1.1",
      "systemctl restart kubelet",
    );
    assert.ok(!calls.some((c) => c.startsWith("kubeadm init --config")), "a running control plane is never initialised again");
    const again = s.run("kubeadm", ["init"], { ...initSettings, VERSION: "v1.35.1" });
    assert.match(again.stderr, /kubelet already runs v1\.35\.1; nothing to upgrade/);
  });

  it("upgrades a joined node with kubeadm upgrade node; a failed upgrade stops before the kubelet", () => {
    const s = setup();
    const join = { VERSION: "v1.34.9", CONFIG: "kind: JoinConfiguration" };
    assert.equal(s.run("kubeadm", ["join"], join).status, 0);
    const before = s.calls().length;
    const failed = s.run("kubeadm", ["join"], { ...join, VERSION: "v1.35.1" }, { FAKE_UPGRADE_FAIL: "1" });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /FAILED: kubeadm upgrade node failed/);
    assert.ok(
      !s
        .calls()
        .slice(before)
        .some((c) => c.includes("kubelet=1.35.1")),
      "kubelet upgraded after a failed kubeadm upgrade",
    );
    const retried = s.run("kubeadm", ["join"], { ...join, VERSION: "v1.35.1" });
    assert.equal(retried.status, 0, retried.stderr);
    after(
      s.calls().slice(before),
      "kubeadm upgrade node",
      "apt-get -o DPkg::Lock::Timeout=60 install -y -q --allow-change-held-packages kubelet=1.35.1-1.1",
    );
    assert.equal(s.calls().filter((c) => c.startsWith("kubeadm join")).length, 1);
  });
});

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
    ) =>
      s.run(
        "rollout",
        [action],
        { KUBECTL: "kubectl", KUBECONFIG_PATH, NODE_NAME: name, VERSION: version, MACHINE: machine },
        { OCI_K8S_READY_ATTEMPTS: "3", ...env },
      );
    return { s, node, read, step };
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

  it("keeps a node cordoned by hand cordoned, and goes on when a drain cannot finish", () => {
    const c = cluster();
    c.node("agent-1", { ...running(), unschedulable: "true" });
    const r = c.step("drain", "agent-1", NEW, A1, { FAKE_DRAIN_STATUS: "1" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /WARNING: draining agent-1 did not finish within 600s; the pods left restart with the node/);
    c.node("agent-1", { version: NEW });
    assert.equal(c.step("uncordon", "agent-1", NEW, A1).status, 0);
    assert.equal(c.read("agent-1", "unschedulable"), "true", "a node cordoned by hand was uncordoned");
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

describe("bootstrap scripts: apt waits for dpkg's lock (lib.sh with_apt_lock)", () => {
  /** apt-get that reports dpkg's lock held for its first `busy` calls, as while unattended upgrades run. */
  const lockedApt = (s: Sandbox, busy: number) =>
    fakeBin(
      s.bin,
      "apt-get",
      `n=$(( $(cat "$FAKE_STATE/apt" 2>/dev/null || echo 0) + 1 )); echo $n > "$FAKE_STATE/apt"
if (( n <= ${busy} )); then echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)" >&2; exit 100; fi`,
    );
  const LIB = fs.readFileSync(path.join(__dirname, "../k8s/bootstrap/scripts/lib.sh"), "utf8");
  const aptRuns = (s: Sandbox) => s.calls().filter((c) => c.startsWith("apt-get"));

  it("kubeadm's install waits out a held lock and then installs, with apt's own lock timeout set", () => {
    const s = sandbox();
    lockedApt(s, 3);
    for (const name of ["apt-mark", "gpg", "curl", "containerd", "kubeadm", "kubectl"]) fakeBin(s.bin, name);
    const r = s.run("kubeadm", ["join"], { VERSION: "v1.34.9", CONFIG: "kind: JoinConfiguration" });
    assert.match(r.stderr, /another apt run holds its lock; waiting/);
    const runs = aptRuns(s);
    assert.ok(runs.length > 3, runs.join("\n"));
    assert.ok(
      runs.every((c) => c.startsWith("apt-get -o DPkg::Lock::Timeout=60 ")),
      runs.join("\n"),
    );
    assert.ok(
      runs.some((c) => c.includes(" install -y -q containerd")),
      runs.join("\n"),
    );
  });

  it("gives up after OCI_K8S_APT_LOCK_WAIT seconds with apt's error, and does not retry other failures", () => {
    const s = sandbox();
    lockedApt(s, 1_000_000);
    const started = Date.now();
    const held = run("bash", ["-c", `${LIB}\nwith_apt_lock apt-get install -y x`], {
      env: { PATH: `${s.bin}:${process.env.PATH}`, FAKE_STATE: s.state, OCI_K8S_RETRY_DELAY: "0.2", OCI_K8S_APT_LOCK_WAIT: "1" },
    });
    assert.equal(held.status, 100);
    assert.match(held.stderr, /Could not get lock/);
    assert.ok(Date.now() - started < 10_000, "the wait is bounded");
    const other = sandbox();
    fakeBin(other.bin, "apt-get", `echo "E: Unable to locate package x" >&2; exit 100`);
    const missing = run("bash", ["-c", `${LIB}\nwith_apt_lock apt-get install -y x`], {
      env: { PATH: `${other.bin}:${process.env.PATH}`, OCI_K8S_RETRY_DELAY: "0.2" },
    });
    assert.equal(missing.status, 100);
    assert.equal(aptRuns(other).length, 1, "a failure other than the lock is not retried");
  });
});

describe("bootstrap scripts: kernel-hold.sh", () => {
  it("holds the installed kernel packages, and releases only held kernel packages", () => {
    const s = sandbox();
    fakeBin(
      s.bin,
      "dpkg-query",
      `printf 'ii  linux-image-6.8.0-1013-oracle\\nii  linux-oracle\\nrc  linux-image-6.8.0-1009-oracle\\nii  linux-modules-6.8.0-1013-oracle\\nii  linux-firmware\\n'`,
    );
    fakeBin(s.bin, "uname", "echo 6.8.0-1013-oracle");
    fakeBin(
      s.bin,
      "apt-mark",
      `[[ "$1" == showhold ]] && printf 'linux-oracle\\nlinux-image-6.8.0-1013-oracle\\nnginx\\n'; exit 0`,
    );
    const held = s.run("kernel-hold", ["hold"]);
    assert.equal(held.status, 0, held.stderr);
    assert.ok(
      s.calls().includes("apt-mark hold linux-image-6.8.0-1013-oracle linux-oracle linux-modules-6.8.0-1013-oracle"),
      s.calls().join("\n"),
    );
    assert.match(held.stderr, /kernel 6\.8\.0-1013-oracle held \(3 packages\)/);
    const released = s.run("kernel-hold", ["release"]);
    assert.equal(released.status, 0, released.stderr);
    assert.ok(
      s.calls().includes("apt-mark unhold linux-oracle linux-image-6.8.0-1013-oracle"),
      "released a package that is not the kernel",
    );
  });
});

describe("bootstrap scripts: etcd-restore.sh", () => {
  it("restore stops the server, resets etcd to a local snapshot by its full path, and starts it again", () => {
    const s = sandbox();
    fakeBin(s.bin, "k3s");
    const snapshots = path.join(s.root, "var/lib/rancher/k3s/server/db/snapshots");
    fs.mkdirSync(snapshots, { recursive: true });
    fs.writeFileSync(path.join(snapshots, "etcd-snapshot-server-1-1763790000"), "snapshot");
    const r = run(
      "bash",
      ["-c", scriptText("etcd-restore"), "etcd-restore", "k3s", "restore", "etcd-snapshot-server-1-1763790000"],
      {
        env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root },
        cwd: snapshots,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(s.calls(), [
      "systemctl stop k3s",
      `k3s server --cluster-reset --cluster-reset-restore-path=${path.join(fs.realpathSync(snapshots), "etcd-snapshot-server-1-1763790000")}`,
      "systemctl start k3s",
    ]);
    assert.match(r.stderr, /run 'oci-k8s-etcd-restore k3s rejoin' on every other server/);
  });

  it("a snapshot name that is no local file needs the bucket in the config; a failed reset says what to check and leaves the service stopped", () => {
    const s = sandbox();
    fakeBin(s.bin, "rke2", "exit 1");
    const refused = s.run("etcd-restore", ["rke2", "restore", "missing"]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /missing is not a local file and no S3 bucket is configured/);
    assert.deepEqual(s.calls(), [], "something was stopped");
    fs.mkdirSync(path.join(s.root, "etc/rancher/rke2"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/rancher/rke2/config.yaml"), "etcd-s3: true\netcd-s3-bucket: b\n");
    const r = s.run("etcd-restore", ["rke2", "restore", "missing"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /the reset to missing failed\n.*rke2 etcd-snapshot ls/);
    assert.ok(s.calls().includes("rke2 server --cluster-reset --cluster-reset-restore-path=missing"));
    assert.ok(!s.calls().includes("systemctl start rke2-server"));
  });

  it("rejoin moves the old etcd data aside (never deletes it) and starts the server", () => {
    const s = sandbox();
    const db = path.join(s.root, "var/lib/rancher/k3s/server/db");
    fs.mkdirSync(path.join(db, "etcd"), { recursive: true });
    const r = s.run("etcd-restore", ["k3s", "rejoin"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(db), false);
    const aside = fs.readdirSync(path.dirname(db)).filter((d) => d.startsWith("db.before-restore-"));
    assert.equal(aside.length, 1);
    assert.ok(fs.existsSync(path.join(path.dirname(db), aside[0], "etcd")));
    assert.deepEqual(s.calls(), ["systemctl stop k3s", "systemctl start k3s"]);
  });

  // etcdutl: "version" answers 3.6.16; "snapshot restore ... --data-dir DIR" makes DIR/member,
  // unless told to fail.
  const ETCDUTL = `[[ "$1" == version ]] && { echo "etcdutl version: 3.6.16"; exit 0; }
[[ -n "\${FAKE_RESTORE_FAIL:-}" ]] && { mkdir -p "$(sed 's/.*--data-dir \\([^ ]*\\).*/\\1/' <<<"$*")/member"; exit 1; }
while [[ $# -gt 0 ]]; do [[ "$1" == --data-dir ]] && mkdir -p "$2/member" && touch "$2/member/restored"; shift; done`;

  function kubeadmServer(etcdutlOnPath = true) {
    const s = sandbox();
    const manifests = path.join(s.root, "etc/kubernetes/manifests");
    fs.mkdirSync(manifests, { recursive: true });
    fs.writeFileSync(
      path.join(manifests, "etcd.yaml"),
      "    - --initial-advertise-peer-urls=https://10.0.0.10:2380\n    - --name=cp-a\n    - --data-dir=/var/lib/etcd\n    image: registry.k8s.io/etcd:3.6.16-0\n",
    );
    fs.writeFileSync(path.join(manifests, "kube-apiserver.yaml"), "kind: Pod\n");
    fs.mkdirSync(path.join(s.root, "var/lib/etcd/member"), { recursive: true });
    fakeBin(s.bin, "hostname", "echo server-1");
    if (etcdutlOnPath) fakeBin(s.bin, "etcdutl", ETCDUTL);
    return { s, manifests };
  }

  it("kubeadm: restore with the server's etcdutl (bumped revision, member name from the manifest) before stopping etcd and the API; keeps the old data", () => {
    const { s, manifests } = kubeadmServer();
    const snapshot = path.join(s.root, "snap.db");
    fs.writeFileSync(snapshot, "snapshot");
    const r = s.run("etcd-restore", ["kubeadm", "restore", snapshot]);
    assert.equal(r.status, 0, r.stderr);
    const restore = s.calls().find((c) => c.startsWith("etcdutl snapshot restore"))!;
    assert.match(
      restore,
      /--name cp-a --initial-cluster cp-a=https:\/\/10\.0\.0\.10:2380 --initial-advertise-peer-urls https:\/\/10\.0\.0\.10:2380 --bump-revision 1000000000 --mark-compacted$/,
    );
    assert.ok(fs.existsSync(path.join(s.root, "var/lib/etcd/member/restored")));
    const aside = fs.readdirSync(path.join(s.root, "var/lib")).filter((d) => d.startsWith("etcd.before-restore-"));
    assert.equal(aside.length, 1, "the old data was not kept");
    for (const m of ["etcd.yaml", "kube-apiserver.yaml"]) assert.ok(fs.existsSync(path.join(manifests, m)), `${m} not back`);
    assert.match(r.stderr, /replace each other one: pulumi up --replace/);
  });

  it("kubeadm: without a matching etcdutl on the node, it is copied out of the etcd image the manifest names", () => {
    const { s } = kubeadmServer(false);
    fakeBin(
      s.bin,
      "ctr",
      `if [[ "$3 $4" == "images mount" ]]; then mkdir -p "$6/usr/local/bin"; printf '#!/usr/bin/env bash\necho "etcdutl $*" >> "${s.bin}/calls.log"\n%s\n' '${ETCDUTL.replace(/'/g, "'\\''")}' > "$6/usr/local/bin/etcdutl"; chmod +x "$6/usr/local/bin/etcdutl"; fi`,
    );
    const snapshot = path.join(s.root, "snap.db");
    fs.writeFileSync(snapshot, "snapshot");
    const r = s.run("etcd-restore", ["kubeadm", "restore", snapshot]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      s.calls().some((c) => /^ctr -n k8s\.io images mount registry\.k8s\.io\/etcd:3\.6\.16-0 /.test(c)),
      s.calls().join("\n"),
    );
    assert.ok(s.calls().some((c) => c.startsWith("ctr -n k8s.io images unmount")));
    assert.ok(s.calls().some((c) => c.startsWith("etcdutl snapshot restore")));
  });

  it("kubeadm: a refused snapshot stops nothing, leaves no half-built directory and keeps the old data", () => {
    const { s, manifests } = kubeadmServer();
    const snapshot = path.join(s.root, "snap.db");
    fs.writeFileSync(snapshot, "snapshot");
    const r = s.run("etcd-restore", ["kubeadm", "restore", snapshot], {}, { FAKE_RESTORE_FAIL: "1" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /etcdutl refused the snapshot .*nothing was stopped/);
    assert.ok(fs.existsSync(path.join(s.root, "var/lib/etcd/member")), "the old data is gone");
    for (const m of ["etcd.yaml", "kube-apiserver.yaml"]) assert.ok(fs.existsSync(path.join(manifests, m)), `${m} was moved`);
    assert.deepEqual(
      fs.readdirSync(path.join(s.root, "var/lib")).filter((d) => d !== "etcd"),
      [],
      "a half-built restore was left",
    );
    const missing = s.run("etcd-restore", ["kubeadm", "restore", "/nowhere.db"]);
    assert.match(missing.stderr, /no snapshot file \/nowhere\.db/);
  });
});

describe("bootstrap scripts: etcd-snapshot.sh (kubeadm)", () => {
  const KEY = "SecretKeyForTheBucketThatMustNotLeak";
  function server() {
    const s = sandbox();
    fakeBin(s.bin, "hostname", "echo server-1");
    fakeBin(s.bin, "apt-get", `[[ "$*" == *etcd-client* ]] && cp "${s.bin}/etcdctl.pkg" "${s.bin}/etcdctl"; exit 0`);
    // The packaged etcdctl: "snapshot save FILE" writes FILE, unless told to fail.
    fs.writeFileSync(
      path.join(s.bin, "etcdctl.pkg"),
      `#!/usr/bin/env bash\necho "etcdctl $*" >> "${s.bin}/calls.log"\n[[ -n "\${FAKE_SNAPSHOT_FAIL:-}" ]] && exit 1\necho db > "\${@: -1}"\n`,
      { mode: 0o755 },
    );
    // curl: records its arguments and what it read on stdin (the -K config: the whole signed
    // request); answers a listing.
    fakeBin(
      s.bin,
      "curl",
      `req="$(cat)"
printf '%s' "$req" > "${s.state}/curl-stdin-$(date +%s%N)"
[[ -n "\${FAKE_UPLOAD_FAIL:-}" && "$*" == *" -T "* ]] && exit 22
if [[ "$req" == *list-type=2* ]]; then
  printf '<ListBucketResult>'
  for k in 20260101T000000Z 20260102T000000Z 20260103T000000Z 20260104T000000Z; do printf '<Contents><Key>oci-k8s-boot/etcd-snapshot-server-1-%s.db</Key></Contents>' "$k"; done
  printf '</ListBucketResult>'
fi
exit 0`,
    );
    const settings = {
      SCRIPT: scriptText("etcd-snapshot"),
      SCHEDULE: "0 */6 * * *",
      RETENTION: "2",
      S3_ENDPOINT: "ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com",
      S3_REGION: "eu-frankfurt-1",
      S3_BUCKET: "oci-k8s-etcd",
      S3_FOLDER: "oci-k8s-boot",
      S3_ACCESS_KEY: "AccessKeyForTheBucket",
      S3_SECRET_KEY: KEY,
    };
    const snapshots = path.join(s.root, "var/lib/oci-k8s/etcd-snapshots");
    const tool = path.join(s.root, "usr/local/sbin/oci-k8s-etcd-snapshot");
    const runTool = (env: Record<string, string> = {}) =>
      run(tool, ["run"], {
        env: { PATH: `${s.bin}:${systemPath()}`, OCI_K8S_ROOT: s.root, OCI_K8S_RETRY_DELAY: "0", ...env },
      });
    return { s, settings, snapshots, tool, runTool };
  }

  it("install puts etcdctl, the tool, its root-only settings and a cron entry on the server", () => {
    const { s, settings, tool } = server();
    const r = s.run("etcd-snapshot", ["install"], settings);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(s.calls().includes("apt-get -o DPkg::Lock::Timeout=60 install -y -q etcd-client"));
    assert.equal(fs.statSync(tool).mode & 0o777, 0o755);
    const stored = path.join(s.root, "etc/oci-k8s/etcd-snapshot.settings");
    assert.equal(fs.statSync(stored).mode & 0o777, 0o600);
    assert.equal(
      fs.readFileSync(path.join(s.root, "etc/cron.d/oci-k8s-etcd-snapshot"), "utf8").trim(),
      "0 */6 * * * root /usr/local/sbin/oci-k8s-etcd-snapshot run 2>&1 | logger -t oci-k8s-etcd-snapshot",
    );
    assert.ok(!(r.stdout + r.stderr).includes(KEY));
  });

  it("run takes a snapshot, keeps the newest RETENTION, uploads it and prunes the bucket; the key never reaches a command line", () => {
    const { s, settings, snapshots, runTool } = server();
    assert.equal(s.run("etcd-snapshot", ["install"], settings).status, 0);
    fs.mkdirSync(snapshots, { recursive: true });
    for (const old of ["20250101T000000Z", "20250102T000000Z"])
      fs.writeFileSync(path.join(snapshots, `etcd-snapshot-server-1-${old}.db`), "old");
    const r = runTool();
    assert.equal(r.status, 0, r.stderr);
    const kept = fs.readdirSync(snapshots).sort();
    assert.equal(kept.length, 2, kept.join(", "));
    assert.ok(kept.includes("etcd-snapshot-server-1-20250102T000000Z.db"));
    assert.ok(!kept.some((f) => f.endsWith(".part")));
    const save = s.calls().find((c) => c.startsWith("etcdctl") && c.includes("snapshot save"))!;
    assert.match(save, /--endpoints=https:\/\/127\.0\.0\.1:2379 .*healthcheck-client\.crt/);
    // Each request reaches curl whole on its stdin, signed (SigV4 with the payload's SHA-256).
    const requests = fs
      .readdirSync(s.state)
      .filter((f) => f.startsWith("curl-stdin-"))
      .sort()
      .map((f) => fs.readFileSync(path.join(s.state, f), "utf8"));
    const put = requests.find((t) => t.includes('request = "PUT"'))!;
    assert.match(
      put,
      /url = "https:\/\/ns\.compat\.objectstorage\.eu-frankfurt-1\.oraclecloud\.com\/oci-k8s-etcd\/oci-k8s-boot\/etcd-snapshot-server-1-\d{8}T\d{6}Z\.db"/,
    );
    assert.match(put, /header = "x-amz-content-sha256: [0-9a-f]{64}"/);
    assert.match(
      put,
      /Credential=AccessKeyForTheBucket\/\d{8}\/eu-frankfurt-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}"/,
    );
    assert.ok(
      requests.some((t) => /url = ".*\/oci-k8s-etcd\?list-type=2&prefix=oci-k8s-boot%2Fetcd-snapshot-server-1-"/.test(t)),
    );
    // Four in the bucket, two kept: the two oldest go.
    const deletes = requests.filter((t) => t.includes('request = "DELETE"'));
    assert.deepEqual(
      deletes.map((t) => /url = "[^"]*\/([^/"]*)"/.exec(t)![1]),
      ["etcd-snapshot-server-1-20260102T000000Z.db", "etcd-snapshot-server-1-20260101T000000Z.db"],
    );
    for (const c of s.calls()) assert.ok(!c.includes(KEY), `the secret key is on a command line: ${c}`);
    for (const t of requests) assert.ok(!t.includes(KEY), "the secret key was sent");
  });

  it("a failed snapshot leaves no partial file; a failed upload keeps the snapshot on the server and fails", () => {
    const { s, settings, snapshots, runTool } = server();
    assert.equal(s.run("etcd-snapshot", ["install"], settings).status, 0);
    const failed = runTool({ FAKE_SNAPSHOT_FAIL: "1" });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /etcdctl could not take a snapshot/);
    assert.deepEqual(fs.readdirSync(snapshots), []);
    const upload = runTool({ FAKE_UPLOAD_FAIL: "1" });
    assert.equal(upload.status, 1);
    assert.match(upload.stderr, /the upload of etcd-snapshot-server-1-.* failed; the snapshot is kept on this server/);
    assert.equal(fs.readdirSync(snapshots).length, 1);
  });
});
