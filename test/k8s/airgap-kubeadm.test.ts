/**
 * kubeadm air-gapped (artifactSource, artifactSha256): kubeadm.sh installs as kubernetes.io's
 * "Installing kubeadm, without a package manager" does, from pinned files in a directory
 * pre-staged on the host, and reaches no package archive. kubeadm.sh runs for real under bash; the
 * files are STAND-INS named as such (a kubeadm that answers `version` and `config images list`
 * and records `init`; a CNI tarball of one stand-in plugin; an images tarball containerd's stand-in
 * `ctr` records). They prove the path (fetch, pin, place, import, apply the local manifest), not
 * Kubernetes: `npm run test:cluster` runs the real files.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../config";
import { fakeBin, must, tempDir } from "../tools";
import { sandbox, Sandbox, systemPath } from "./bootstrap-scripts.fixtures";

const sha = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
const KEY = Buffer.alloc(32, 7).toString("base64");

/** The pre-staged directory: stand-in release files, and the CNI plugins as a real .tgz. */
function stage(): { dir: string; files: Record<string, Buffer> } {
  const dir = tempDir("kubeadm-artifacts");
  const text: Record<string, string> = {
    kubeadm: `#!/bin/bash
# STAND-IN kubeadm (test only)
case "$1 $2" in
  "version -o") echo v1.34.4 ;;
  "config images") echo registry.k8s.io/kube-apiserver:v1.34.4; echo registry.k8s.io/pause:3.10.1 ;;
  "init --config") echo "kubeadm init" >> "$FAKE_STATE/kubeadm"; mkdir -p "$OCI_K8S_ROOT/etc/kubernetes"; touch "$OCI_K8S_ROOT/etc/kubernetes/admin.conf" ;;
  "upgrade apply") echo "kubeadm upgrade apply $4" >> "$FAKE_STATE/order" ;;
esac
`,
    kubelet: `#!/bin/sh\n# STAND-IN kubelet (test only)\necho "Kubernetes v1.34.4"\n`,
    kubectl: `#!/bin/sh\n# STAND-IN kubectl (test only)\necho "kubectl $*" >> "$FAKE_STATE/kubectl"\n`,
    "kubelet.service": "# STAND-IN kubelet.service (test only)\n[Service]\nExecStart=/usr/bin/kubelet\n",
    "10-kubeadm.conf": "# STAND-IN 10-kubeadm.conf (test only)\n",
    "kube-images-amd64.tar": "STAND-IN images tarball (test only)\n",
    "kube-flannel.yml": "# STAND-IN kube-flannel.yml (test only)\n",
  };
  const files: Record<string, Buffer> = Object.fromEntries(Object.entries(text).map(([n, t]) => [n, Buffer.from(t)]));
  const plugins = tempDir("cni");
  fs.writeFileSync(path.join(plugins, "bridge"), "#!/bin/sh\n# STAND-IN bridge plugin (test only)\n", { mode: 0o755 });
  must("tar", ["-czf", path.join(dir, "cni-plugins-linux-amd64.tgz"), "-C", plugins, "bridge"]);
  files["cni-plugins-linux-amd64.tgz"] = fs.readFileSync(path.join(dir, "cni-plugins-linux-amd64.tgz"));
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body, { mode: 0o644 });
  return { dir, files };
}

const pins = (files: Record<string, Buffer>) =>
  Object.entries(files)
    .map(([name, body]) => `${name} ${sha(body)}`)
    .join("\n");

/** A host with containerd (its default config as 1.6 prints it) and ctr, and no apt that works. */
function host(): Sandbox {
  const s = sandbox();
  fakeBin(
    s.bin,
    "containerd",
    `printf '%s\\n' 'version = 2' '    restrict_oom_score_adj = false' '    sandbox_image = "registry.k8s.io/pause:3.6"' '            SystemdCgroup = false'`,
  );
  fakeBin(s.bin, "ctr", `cp "\${@: -1}" "$FAKE_STATE/imported"`);
  fakeBin(s.bin, "apt-get", "echo 'apt-get: no archive is reachable (test)' >&2; exit 100");
  return s;
}

const init = (s: Sandbox, dir: string, files: Record<string, Buffer>, version = "v1.34.4") =>
  s.run(
    "kubeadm",
    ["init"],
    {
      VERSION: version,
      CONFIG: "kind: InitConfiguration",
      CNI_MANIFEST: "https://github.com/flannel-io/flannel/releases/download/v0.28.4/kube-flannel.yml",
      ENCRYPTION_CONFIG: `secret: ${KEY}`,
      ARTIFACT_SOURCE: dir,
      ARTIFACTS: pins(files),
    },
    { PATH: `${s.bin}:${path.join(s.root, "usr/bin")}:${systemPath()}`, OCI_K8S_ARCH: "amd64" },
  );

describe("kubeadm air-gapped: the install without a package manager, from pinned files", function () {
  this.timeout(120_000);

  it("places the binaries, kubelet's unit and drop-in and the CNI plugins, imports the images, applies the pinned manifest, and runs no apt", () => {
    const s = host();
    const { dir, files } = stage();
    const r = init(s, dir, files);
    assert.equal(r.status, 0, r.stderr);
    for (const b of ["kubeadm", "kubelet", "kubectl"]) {
      assert.deepEqual(fs.readFileSync(path.join(s.root, "usr/bin", b)), files[b], b);
      assert.equal(fs.statSync(path.join(s.root, "usr/bin", b)).mode & 0o777, 0o755, b);
    }
    assert.deepEqual(fs.readFileSync(path.join(s.root, "etc/systemd/system/kubelet.service")), files["kubelet.service"]);
    assert.deepEqual(
      fs.readFileSync(path.join(s.root, "etc/systemd/system/kubelet.service.d/10-kubeadm.conf")),
      files["10-kubeadm.conf"],
    );
    assert.match(fs.readFileSync(path.join(s.root, "opt/cni/bin/bridge"), "utf8"), /STAND-IN bridge plugin/);
    const containerd = fs.readFileSync(path.join(s.root, "etc/containerd/config.toml"), "utf8");
    assert.match(containerd, /SystemdCgroup = true/);
    assert.match(containerd, /sandbox_image = "registry\.k8s\.io\/pause:3\.10\.1"/, "kubeadm's pause, not containerd's 3.6");
    assert.deepEqual(fs.readFileSync(path.join(s.state, "imported")), files["kube-images-amd64.tar"]);
    assert.equal(fs.readFileSync(path.join(s.state, "kubeadm"), "utf8"), "kubeadm init\n");
    const applied = fs.readFileSync(path.join(s.state, "kubectl"), "utf8");
    assert.ok(
      applied.includes(`apply --request-timeout=60s -f ${path.join(s.root, "etc/kubernetes/oci-k8s/kube-flannel.yml")}`),
      applied,
    );
    assert.ok(!applied.includes("https://"), "no manifest URL is fetched");
    assert.ok(!s.calls().some((c) => c.startsWith("apt-get")), s.calls().join("\n"));
  });

  it("an upgrade imports the pinned images of the new version before kubeadm upgrade apply (an air-gapped node pulls none)", () => {
    const s = host();
    const { dir, files } = stage();
    assert.equal(init(s, dir, files).status, 0);
    fakeBin(s.bin, "ctr", `echo "ctr images import" >> "$FAKE_STATE/order"`);
    const r = init(s, dir, files, "v1.34.5");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /upgrading this node from v1\.34\.4 to v1\.34\.5/);
    assert.deepEqual(fs.readFileSync(path.join(s.state, "order"), "utf8").trim().split("\n"), [
      "ctr images import",
      "kubeadm upgrade apply v1.34.5",
    ]);
  });

  it("container hosts (containerHosts: CGROUP_DRIVER, CGROUP_ROOT): containerd keeps the cgroupfs driver, and the kubelet's cgroup root is made before each start", () => {
    const s = host();
    const { dir, files } = stage();
    const r = s.run(
      "kubeadm",
      ["init"],
      {
        VERSION: "v1.34.4",
        CONFIG: "kind: InitConfiguration",
        CNI_MANIFEST: "https://github.com/flannel-io/flannel/releases/download/v0.28.4/kube-flannel.yml",
        ENCRYPTION_CONFIG: `secret: ${KEY}`,
        ARTIFACT_SOURCE: dir,
        ARTIFACTS: pins(files),
        CGROUP_DRIVER: "cgroupfs",
        CGROUP_ROOT: "/oci-k8s-vps-1",
        OOM_SCORE_ADJ_RESTRICTED: "true",
      },
      { PATH: `${s.bin}:${path.join(s.root, "usr/bin")}:${systemPath()}`, OCI_K8S_ARCH: "amd64" },
    );
    assert.equal(r.status, 0, r.stderr);
    const containerd = fs.readFileSync(path.join(s.root, "etc/containerd/config.toml"), "utf8");
    assert.match(containerd, /SystemdCgroup = false/);
    assert.match(containerd, /restrict_oom_score_adj = true/);
    const dropIn = fs.readFileSync(path.join(s.root, "etc/systemd/system/kubelet.service.d/20-oci-k8s-cgroup-root.conf"), "utf8");
    assert.match(dropIn, /^ExecStartPre=\/usr\/local\/sbin\/oci-k8s-kubelet-cgroup-root$/m);
    const helper = fs.readFileSync(path.join(s.root, "usr/local/sbin/oci-k8s-kubelet-cgroup-root"), "utf8");
    assert.match(helper, /d="\$\{c\}oci-k8s-vps-1"/);
    assert.equal(spawnSync("sh", ["-n", path.join(s.root, "usr/local/sbin/oci-k8s-kubelet-cgroup-root")]).status, 0);
  });

  it("an images tarball whose sha256 is not the pinned one stops the install before kubeadm init", () => {
    const s = host();
    const { dir, files } = stage();
    fs.writeFileSync(path.join(dir, "kube-images-amd64.tar"), "a DIFFERENT images tarball\n");
    const r = init(s, dir, files);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /kube-images-amd64\.tar from .* has sha256 [0-9a-f]{64}, not the pinned/);
    assert.ok(!fs.existsSync(path.join(s.state, "kubeadm")), "kubeadm init did not run");
  });

  it("a host without containerd is refused, saying to install the OS's package", () => {
    const s = host();
    fs.rmSync(path.join(s.bin, "containerd"));
    const { dir, files } = stage();
    const r = s.run(
      "kubeadm",
      ["init"],
      {
        VERSION: "v1.34.4",
        CONFIG: "x",
        CNI_MANIFEST: "x",
        ENCRYPTION_CONFIG: "x",
        ARTIFACT_SOURCE: dir,
        ARTIFACTS: pins(files),
      },
      // No system containerd either: only the tools the scripts use.
      { OCI_K8S_ARCH: "amd64" },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /containerd is not installed, and an air-gapped kubeadm install reaches no package archive/);
  });

  it("config: kubeadm takes artifactSource, and must pin its kubeadm binary", () => {
    const base = {
      compartmentId: "ocid1.compartment.oc1..aaaaaaaaminimalfixture",
      adminCidrs: ["203.0.113.10/32"],
      alertEmail: "ops@example.com",
      distribution: "kubeadm",
      artifactSource: "/opt/oci-k8s/artifacts",
    };
    const refused = (extra: Record<string, unknown>) => {
      try {
        parseConfig({ ...base, ...extra }, "dev");
      } catch (e) {
        return String((e as Error).message);
      }
      return "accepted";
    };
    assert.equal(refused({ artifactSha256: { kubeadm: "a".repeat(64), "kube-images-amd64.tar": "b".repeat(64) } }), "accepted");
    assert.match(refused({ artifactSha256: { kubelet: "a".repeat(64) } }), /must pin kubeadm, the binary every node runs first/);
    assert.match(
      refused({ artifactSha256: { kubeadm: "a".repeat(64), "k3s-arm64": "b".repeat(64) } }),
      /artifactSha256\.k3s-arm64: .* is not a kubeadm release file/,
    );
  });
});
