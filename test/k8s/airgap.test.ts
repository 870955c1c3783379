/**
 * Air-gapped installs (artifactSource, artifactSha256) and bounded downloads. rancher.sh runs for
 * real under bash with the real curl against a mirror on loopback (python3's http.server) or a
 * pre-staged directory. The files there are STAND-INS named as such: a stand-in install.sh that
 * records how it was called, a stand-in k3s binary that answers --version; they prove the path
 * (fetch, pin, place, call the installer as upstream documents), not the distribution.
 * The unreachable mirror is an address whose frames go to a MAC nobody has, on a veth pair inside a
 * network namespace the test creates: every packet is dropped unanswered, and none leaves it.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../config";
import { decodeSettings, encodeSettings, scriptText, settingsPart } from "../../k8s/bootstrap/scripts";
import { named, runOk } from "../../scripts/mock-program";
import { requireRoot, requireTool, run, tempDir } from "../tools";
import { sandbox, Sandbox, TOKEN } from "./bootstrap-scripts.fixtures";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** Stand-in release files: a k3s binary that answers like one, installers that record their environment. */
function standIns(dist: "k3s" | "rke2"): Record<string, string> {
  if (dist === "k3s") {
    return {
      "install.sh": `# STAND-IN k3s install.sh (test only)\necho "stand-in installer SKIP=$INSTALL_K3S_SKIP_DOWNLOAD VERSION=$INSTALL_K3S_VERSION EXEC=$INSTALL_K3S_EXEC" >> "$FAKE_STATE/installs"\n`,
      k3s: `#!/bin/sh\n# STAND-IN k3s binary (test only)\n[ "$1" = --version ] && echo "k3s version v1.34.9+k3s1 (stand-in)"\nexit 0\n`,
      "k3s-airgap-images-amd64.tar.zst": "STAND-IN k3s image tarball (test only)\n",
    };
  }
  return {
    "install.sh": `# STAND-IN rke2 install.sh (test only)\nls "$INSTALL_RKE2_ARTIFACT_PATH" | tr '\\n' ' ' > "$FAKE_STATE/artifact-path"\necho "stand-in installer TYPE=$INSTALL_RKE2_TYPE" >> "$FAKE_STATE/installs"\n`,
    "rke2.linux-amd64.tar.gz": "STAND-IN rke2 tarball (test only)\n",
    "rke2-images.linux-amd64.tar.zst": "STAND-IN rke2 images (test only)\n",
    "sha256sum-amd64.txt": "STAND-IN rke2 checksums (test only)\n",
  };
}

function stage(files: Record<string, string>): string {
  const dir = tempDir("artifacts");
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const pins = (files: Record<string, string>) =>
  Object.entries(files)
    .map(([name, text]) => `${name} ${sha(text)}`)
    .join("\n");

/** The real curl on PATH after the sandbox's fakes (it has none), and the node's /usr/local/bin. */
function node(s: Sandbox, extra: Record<string, string> = {}) {
  const curl = tempDir("curl");
  fs.symlinkSync("/usr/bin/curl", path.join(curl, "curl"));
  return {
    PATH: `${s.bin}:${path.join(s.root, "usr/local/bin")}:${curl}:${process.env.PATH}`,
    OCI_K8S_ARCH: "amd64",
    ...extra,
  };
}

describe("air-gapped installs and bounded downloads", function () {
  this.timeout(120_000);
  let server: ChildProcess | undefined;
  let mirrorDir = "";
  let port = 0;

  before(async () => {
    mirrorDir = stage(standIns("k3s"));
    port = 20000 + Math.floor(Math.random() * 20000);
    server = spawn("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", mirrorDir], {
      stdio: "ignore",
    });
    for (let i = 0; i < 100; i++) {
      if (spawnSync("curl", ["-sf", "-o", "/dev/null", `http://127.0.0.1:${port}/install.sh`]).status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the loopback mirror did not start");
  });
  after(() => server?.kill());

  /** rancher.sh k3s server, its files from the loopback mirror, pinned as `files` says. */
  const k3sFromMirror = (s: Sandbox, files: Record<string, string>) =>
    s.run(
      "rancher",
      ["k3s", "server"],
      {
        VERSION: "v1.34.9+k3s1",
        CONFIG: `token: ${TOKEN}`,
        KUBECTL: "k3s kubectl",
        ARTIFACT_SOURCE: `http://127.0.0.1:${port}`,
        ARTIFACTS: pins(files),
      },
      node(s),
    );

  it("k3s from a mirror on loopback: every file pinned by sha256, binary and images placed, installer run with INSTALL_K3S_SKIP_DOWNLOAD", () => {
    const s = sandbox();
    const files = standIns("k3s");
    const r = k3sFromMirror(s, files);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(s.root, "usr/local/bin/k3s"), "utf8"), files.k3s);
    assert.equal(fs.statSync(path.join(s.root, "usr/local/bin/k3s")).mode & 0o777, 0o755);
    assert.ok(fs.existsSync(path.join(s.root, "var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst")));
    assert.equal(
      fs.readFileSync(path.join(s.state, "installs"), "utf8"),
      "stand-in installer SKIP=true VERSION=v1.34.9+k3s1 EXEC=server\n",
    );
    assert.match(r.stderr, /install\.sh verified \(sha256 [0-9a-f]{64}\)/);
  });

  it("RKE2 from a directory pre-staged on the host: INSTALL_RKE2_ARTIFACT_PATH holds the tarball-method files", () => {
    const s = sandbox();
    const files = standIns("rke2");
    const r = s.run(
      "rancher",
      ["rke2", "agent"],
      { VERSION: "v1.34.9+rke2r1", CONFIG: `token: ${TOKEN}`, ARTIFACT_SOURCE: stage(files), ARTIFACTS: pins(files) },
      node(s),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      fs.readFileSync(path.join(s.state, "artifact-path"), "utf8"),
      "rke2-images.linux-amd64.tar.zst rke2.linux-amd64.tar.gz sha256sum-amd64.txt ",
    );
  });

  it("a file whose sha256 is not the pinned one is refused, and nothing is installed", () => {
    const s = sandbox();
    const files = { ...standIns("k3s"), k3s: "#!/bin/sh\n# a DIFFERENT stand-in binary\n" };
    const r = k3sFromMirror(s, files);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `FAILED: k3s from http://127\\.0\\.0\\.1:${port} has sha256 ${sha(standIns("k3s").k3s)}, not the pinned ${sha(files.k3s)}`,
      ),
    );
    assert.ok(!fs.existsSync(path.join(s.root, "usr/local/bin/k3s")));
    assert.ok(!fs.existsSync(path.join(s.state, "installs")));
  });

  it("a pre-staged file missing on the host, or one the pins leave out, fails naming it", () => {
    const s = sandbox();
    const files = standIns("k3s");
    const dir = stage({ "install.sh": files["install.sh"] });
    const r = s.run(
      "rancher",
      ["k3s", "server"],
      { VERSION: "v1.34.9+k3s1", CONFIG: "a: b", ARTIFACT_SOURCE: dir, ARTIFACTS: pins(files) },
      node(s),
    );
    assert.match(r.stderr, new RegExp(`FAILED: ${dir}/k3s is not on this host`));
    const unpinned = s.run(
      "rancher",
      ["k3s", "server"],
      { VERSION: "v1.34.9+k3s1", CONFIG: "a: b", ARTIFACT_SOURCE: dir, ARTIFACTS: pins({ "install.sh": files["install.sh"] }) },
      node(s),
    );
    assert.match(unpinned.stderr, /FAILED: artifactSha256 pins no k3s, which this node needs/);
  });

  it("an unreachable mirror (packets silently dropped) fails within its bound, saying before each retry what and why", function () {
    const ns = `oci-k8s-airgap-${process.pid}`;
    requireRoot(this, "a network namespace of the test's own");
    requireTool(this, "ip");
    assert.equal(spawnSync("ip", ["netns", "add", ns]).status, 0, `ip netns add ${ns}`);
    try {
      for (const args of [
        ["link", "add", "blackhole0", "type", "veth", "peer", "name", "blackhole1"],
        ["addr", "add", "10.213.0.1/24", "dev", "blackhole0"],
        ["link", "set", "blackhole0", "up"],
        ["link", "set", "blackhole1", "up"],
        ["link", "set", "lo", "up"],
        // The mirror's address resolves to a MAC no interface has: its peer drops every frame, unanswered.
        ["neigh", "add", "10.213.0.2", "lladdr", "02:00:00:00:02:13", "dev", "blackhole0", "nud", "permanent"],
      ]) {
        assert.equal(spawnSync("ip", ["netns", "exec", ns, "ip", ...args]).status, 0, args.join(" "));
      }
      const s = sandbox();
      const files = standIns("k3s");
      const started = Date.now();
      const r = run("ip", ["netns", "exec", ns, "bash", "-c", scriptText("rancher"), "rancher", "k3s", "server"], {
        input: encodeSettings({
          VERSION: "v1.34.9+k3s1",
          CONFIG: "a: b",
          ARTIFACT_SOURCE: "http://10.213.0.2:8080/k3s",
          ARTIFACTS: pins(files),
          // The node's privateIp, on the namespace's interface (the install finds it first).
          NODE_IP: "10.213.0.1",
        }),
        env: {
          ...node(s),
          OCI_K8S_ROOT: s.root,
          FAKE_STATE: s.state,
          OCI_K8S_RETRY_DELAY: "0",
          OCI_K8S_CONNECT_TIMEOUT: "2",
          OCI_K8S_DOWNLOAD_ATTEMPTS: "3",
        },
      });
      const seconds = (Date.now() - started) / 1000;
      assert.equal(r.status, 1, r.stderr);
      assert.ok(seconds >= 5 && seconds < 15, `took ${seconds} s`);
      const retries = r.stderr.split("\n").filter((l) => l.includes("retrying"));
      assert.equal(retries.length, 2, r.stderr);
      for (const line of retries) {
        assert.match(
          line,
          /download of http:\/\/10\.213\.0\.2:8080\/k3s\/install\.sh failed \(curl: \(28\) .*(Timeout was reached|timed out).*\); retrying in 0s, attempt [23] of 3/,
        );
      }
      assert.match(r.stderr, /FAILED: could not download install\.sh from the artifact mirror http:\/\/10\.213\.0\.2:8080\/k3s/);
      assert.match(r.stderr, /try: check that this node reaches the mirror \(artifactSource\)/);
    } finally {
      spawnSync("ip", ["netns", "delete", ns]);
    }
  });

  it("the stack keys reach every install's stdin, validated with clear errors", async () => {
    const files = standIns("k3s");
    const sha256 = Object.fromEntries(Object.entries(files).map(([n, t]) => [n, sha(t)]));
    const r = await runOk("airgap", {
      "oci:region": "eu-frankfurt-1",
      compartmentId: "ocid1.compartment.oc1..aaaaaaaaminimalfixture",
      adminCidrs: ["203.0.113.10/32"],
      alertEmail: "ops@example.com",
      artifactSource: "https://mirror.example.net/k3s/v1.34.9+k3s1/",
      artifactSha256: sha256,
    });
    const settings = decodeSettings(settingsPart(named(r, "command:remote:Command", "server-1-install").inputs.stdin));
    assert.equal(settings.ARTIFACT_SOURCE, "https://mirror.example.net/k3s/v1.34.9+k3s1");
    assert.equal(settings.ARTIFACTS, pins(files));

    const base = {
      compartmentId: "ocid1.compartment.oc1..aaaaaaaaminimalfixture",
      adminCidrs: ["203.0.113.10/32"],
      alertEmail: "ops@example.com",
    };
    const refused = (extra: Record<string, unknown>) => {
      try {
        parseConfig({ ...base, ...extra }, "dev");
      } catch (e) {
        return String((e as Error).message);
      }
      return "accepted";
    };
    const good = { "install.sh": "a".repeat(64) };
    assert.match(
      refused({ artifactSource: "ftp://mirror", artifactSha256: good }),
      /artifactSource: "ftp:\/\/mirror" must be an http:\/\/ or https:\/\/ URL/,
    );
    assert.match(
      refused({ artifactSource: "https://user:pw@mirror/x", artifactSha256: good }),
      /artifactSource: .* must be an http/,
    );
    assert.match(refused({ artifactSource: "/opt/../etc", artifactSha256: good }), /without '\.\.'/);
    assert.match(
      refused({ artifactSource: "/opt/a", artifactSha256: { "install.sh": "XYZ" } }),
      /artifactSha256\.install\.sh: "XYZ" must be a sha256 digest/,
    );
    assert.match(
      refused({ artifactSource: "/opt/a", artifactSha256: { ...good, "k3s-s390x": "b".repeat(64) } }),
      /artifactSha256\.k3s-s390x: .* is not a k3s release file; allowed: install\.sh, k3s, k3s-arm64/,
    );
    assert.match(refused({ artifactSource: "/opt/a", artifactSha256: {} }), /must pin install\.sh/);
    assert.match(
      refused({ artifactSha256: good }),
      /artifactSha256: \["install\.sh"\] pins files, but artifactSource names no mirror/,
    );
    assert.match(refused({ distribution: "kubeadm", artifactSource: "/opt/a", artifactSha256: good }), /must pin kubeadm/);
    assert.equal(refused({ distribution: "rke2", artifactSource: "/opt/oci-k8s/artifacts", artifactSha256: good }), "accepted");
  });
});
