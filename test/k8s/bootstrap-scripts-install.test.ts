/**
 * The bootstrap scripts run for real under bash, exactly as sent to a node (lib.sh + script, as
 * `bash -c`), against fake distribution binaries on PATH that record their calls and can be
 * told to fail. Files the scripts write land under OCI_K8S_ROOT, a temp dir.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { scriptText } from "../../k8s/bootstrap/scripts";
import { fakeBin, run } from "../tools";

/** How apt_get (lib.sh) runs apt-get: no wait of apt's own (its loop waits, saying so), network timeouts and retries. */
const APT = "apt-get -o DPkg::Lock::Timeout=0 -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=3";
import { systemPath, TOKEN, sandbox, fakeRancher, installs, k3sServer, type Sandbox } from "./bootstrap-scripts.fixtures";

describe("bootstrap scripts: rancher.sh (k3s, RKE2)", () => {
  it("installs the pinned k3s on a first run, writes a root-only config, and waits for the API", () => {
    const s = sandbox();
    fakeRancher(s, "k3s");
    const r = s.run("rancher", ["k3s", "server"], k3sServer());
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(installs(s), ["installer v1.34.9+k3s1"]);
    assert.ok(
      s
        .calls()
        .some((c) =>
          /^curl -sSfL --connect-timeout 10 --max-time 60 -o \S+ https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/v1\.34\.9%2Bk3s1\/install\.sh$/.test(
            c,
          ),
        ),
    );
    const config = path.join(s.root, "etc/rancher/k3s/config.yaml");
    // The config as sent, and the interface holding the node's IP (loopback's in the sandbox).
    assert.equal(fs.readFileSync(config, "utf8"), `${k3sServer().CONFIG}\nflannel-iface: lo\n`);
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
    ENCRYPTION_CONFIG: "kind: EncryptionConfiguration",
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
            `${APT} install -y -q --allow-change-held-packages kubelet=1.34.9-1.1 kubeadm=1.34.9-1.1 kubectl=1.34.9-1.1`,
          ),
        ),
    );
    assert.ok(s.calls().includes("apt-mark hold kubelet kubeadm kubectl"));
    assert.match(fs.readFileSync(path.join(s.root, "etc/containerd/config.toml"), "utf8"), /SystemdCgroup = true/);
    assert.equal(s.calls().filter((c) => c.startsWith("kubeadm init --config")).length, 1);
    // The manifest is fetched within a bound, then applied from the file with a bounded request.
    assert.ok(
      s
        .calls()
        .some((c) =>
          /^curl -sSfL --connect-timeout 10 --max-time 60 -o \S+ https:\/\/example\.invalid\/kube-flannel\.yml$/.test(c),
        ),
      s.calls().join("\n"),
    );
    assert.ok(
      s.calls().some((c) => c.startsWith("kubectl --kubeconfig") && / apply --request-timeout=60s -f \/\S+$/.test(c)),
      s.calls().join("\n"),
    );
    const before = s.calls().length;
    const second = s.run("kubeadm", ["init"], initSettings);
    assert.equal(second.status, 0, second.stderr);
    const again = s.calls().slice(before);
    assert.ok(!again.some((c) => c.startsWith(`${APT} install`) || c.startsWith("kubeadm init")), again.join("\n"));
  });

  it("the CNI manifest: an unreachable URL fails naming it; a file on the node (a pinned artifact) is applied as it is", () => {
    const down = setup();
    fakeBin(
      down.bin,
      "curl",
      `[[ "$*" == *kube-flannel* ]] || exit 0; echo "curl: (28) Connection timed out after 10001 milliseconds" >&2; exit 28`,
    );
    const r = down.run("kubeadm", ["init"], initSettings, { OCI_K8S_DOWNLOAD_ATTEMPTS: "2" });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /download of https:\/\/example\.invalid\/kube-flannel\.yml failed \(curl: \(28\) Connection timed out/,
    );
    assert.match(r.stderr, /FAILED: could not download the CNI manifest https:\/\/example\.invalid\/kube-flannel\.yml/);
    assert.ok(!down.calls().some((c) => c.includes(" apply ")), "nothing applied");
    const local = setup();
    const manifest = path.join(local.root, "kube-flannel.yml");
    fs.writeFileSync(manifest, "kind: List\n");
    const ok = local.run("kubeadm", ["init"], { ...initSettings, CNI_MANIFEST: manifest });
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(!local.calls().some((c) => c.startsWith("curl") && c.includes("kube-flannel")), local.calls().join("\n"));
    assert.ok(local.calls().some((c) => c.endsWith(` apply --request-timeout=60s -f ${manifest}`)));
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
    // Without the init configuration kubeadm takes the API address from the default route, and
    // refuses the 0.0.0.0 it falls back to on a node without one (air-gapped; seen on the
    // cluster suite's machines): the certificates are uploaded with the stored configuration.
    const stored = path.join(s.root, "etc/kubernetes/oci-k8s/kubeadm.yaml");
    fs.mkdirSync(path.dirname(stored), { recursive: true });
    fs.writeFileSync(stored, "kind: InitConfiguration\n");
    assert.equal(s.run("kubeadm", ["join-material", "server"], { VERSION: "v1.34.9" }).status, 0);
    assert.ok(s.calls().includes(`kubeadm init phase upload-certs --upload-certs --config ${stored}`), s.calls().join("\n"));
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
    after(calls, `${APT} install -y -q --allow-change-held-packages kubeadm=1.35.1-1.1`, "kubeadm upgrade apply -y v1.35.1");
    after(
      calls,
      "kubeadm upgrade apply -y v1.35.1",
      `${APT} install -y -q --allow-change-held-packages kubelet=1.35.1-1.1 kubectl=1.35.1-1.1`,
    );
    after(calls, `${APT} install -y -q --allow-change-held-packages kubelet=1.35.1-1.1`, "systemctl restart kubelet");
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
      `${APT} install -y -q --allow-change-held-packages kubelet=1.35.1-1.1`,
    );
    assert.equal(s.calls().filter((c) => c.startsWith("kubeadm join")).length, 1);
  });

  /** curl answering the CRI's Version call as containerd does after a restart: not initialised READY_AT - 1 times, then ready. */
  const cri = (s: Sandbox, readyAt: number) =>
    fakeBin(
      s.bin,
      "curl",
      `[[ "$*" == *RuntimeService/Version* ]] || exit 0
n=$(( $(cat "${s.state}/cri" 2>/dev/null || echo 0) + 1 )); echo $n > "${s.state}/cri"
if (( n < ${readyAt} )); then printf 'HTTP/2 200\\r\\ngrpc-status: 2\\r\\ngrpc-message: server is not initialized yet\\r\\n'; else printf 'HTTP/2 200\\r\\ngrpc-status: 0\\r\\n'; fi`,
    );

  // The cluster suite's upgrade failed so: `kubeadm upgrade node` right after containerd's restart,
  // "validate CRI v1 runtime API ... server is not initialized yet".
  it("containerd restarts only when its configuration changes, and kubeadm waits for its CRI after a restart", () => {
    const s = setup();
    cri(s, 3);
    const env = { OCI_K8S_CRI_ATTEMPTS: "5" };
    const join = { VERSION: "v1.34.9", CONFIG: "kind: JoinConfiguration" };
    assert.equal(s.run("kubeadm", ["join"], join, env).status, 0);
    const first = s.calls();
    const probes = first.flatMap((c, i) => (c.startsWith("curl") && c.includes("RuntimeService/Version") ? [i] : []));
    assert.equal(probes.length, 3, first.join("\n"));
    assert.ok(first.indexOf("systemctl restart containerd") < probes[0]);
    assert.ok(first.findIndex((c) => c.startsWith("kubeadm join")) > probes[2], "kubeadm ran before the CRI answered");
    // A patch upgrade keeps containerd's configuration (the same pause image): no restart.
    const upgrade = s.calls().length;
    assert.equal(s.run("kubeadm", ["join"], { ...join, VERSION: "v1.34.10" }, env).status, 0);
    const calls = s.calls().slice(upgrade);
    assert.ok(calls.includes("kubeadm upgrade node"), calls.join("\n"));
    assert.ok(!calls.includes("systemctl restart containerd"), calls.join("\n"));
    // A CRI that never answers stops the install before kubeadm, saying so.
    const stuck = setup();
    cri(stuck, 99);
    const r = stuck.run("kubeadm", ["join"], join, { OCI_K8S_CRI_ATTEMPTS: "2" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAILED: containerd's CRI did not answer within 2 attempts after its restart/);
    assert.ok(!stuck.calls().some((c) => c.startsWith("kubeadm join")));
  });
});
