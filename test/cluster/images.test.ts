/**
 * The images a kubeadm node needs, built here (tools/kube/build-images.sh), import into a real
 * containerd (Debian 12's 1.6.20, as the nodes run it) under every name kubeadm v1.34.4 pulls
 * (`kubeadm config images list`) and every image the flannel manifest the program applies names
 * (its own Documentation/kube-flannel.yml, from the flannel module tools/kube builds). Each image
 * then runs under runc: the Kubernetes binaries report the pinned version, and the Debian tools
 * flannel's init containers and kube-proxy exec (cp, iptables) run with the libraries packed
 * beside them.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { KUBEADM } from "../../k8s/bootstrap/kubeadm";
import { ROOT } from "../../scripts/mock-program";
import { FLANNEL_VERSION, flannelManifestPath } from "./kube-files";
import { must, requireFile, requireRoot, requireTool, run, tempDir } from "../tools";

const KUBE_BIN = path.join(ROOT, "tools", "kube", "bin");
const TARBALL = path.join(KUBE_BIN, "kube-images.tar");
const KUBEADM_BIN = path.join(KUBE_BIN, "kubeadm");
/** The images the pinned flannel manifest names. */
function flannelImages(): string[] {
  return [...new Set([...fs.readFileSync(flannelManifestPath(), "utf8").matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]))];
}

describe("the kubeadm node images import into containerd and run", function () {
  this.timeout(600_000);
  let dir = "";
  let containerd: ChildProcess | undefined;
  let sock = "";
  const ctr = (...args: string[]) => run("ctr", ["--address", sock, "--namespace", "k8s.io", ...args], { timeout: 300_000 });

  before(async function () {
    requireRoot(this, "containerd and runc");
    requireTool(this, "containerd");
    requireTool(this, "runc");
    requireFile(this, KUBEADM_BIN, "run tools/kube/build.sh all");
    requireTool(this, "go");
    requireFile(this, flannelManifestPath(), "run tools/kube/build-addons.sh");
    requireFile(
      this,
      TARBALL,
      "run tools/kube/build.sh all, tools/kube/build-addons.sh, tools/etcd/build.sh, then tools/kube/build-images.sh",
    );
    dir = tempDir("containerd");
    sock = path.join(dir, "containerd.sock");
    // Its own root, state and socket: nothing of this machine's containerd (if any) is touched.
    fs.writeFileSync(
      path.join(dir, "config.toml"),
      `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${sock}"\n`,
    );
    containerd = spawn("containerd", ["--config", path.join(dir, "config.toml")], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    containerd.stderr!.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    for (let i = 0; i < 60 && run("ctr", ["--address", sock, "version"]).status !== 0; i++)
      await new Promise((r) => setTimeout(r, 500));
    assert.equal(run("ctr", ["--address", sock, "version"]).status, 0, `containerd did not start:\n${log}`);
    const imported = ctr("images", "import", TARBALL);
    assert.equal(imported.status, 0, imported.stderr);
  });

  after(() => {
    containerd?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("holds every image kubeadm and the flannel manifest pull, by their names", () => {
    const list = must(KUBEADM_BIN, ["config", "images", "list", "--kubernetes-version", KUBEADM.defaultVersion])
      .trim()
      .split("\n");
    assert.ok(list.length >= 7, list.join(" "));
    const have = new Set(ctr("images", "ls", "-q").stdout.trim().split("\n"));
    for (const image of [...list, ...flannelImages()]) assert.ok(have.has(image), `${image} is not in ${TARBALL}`);
  });

  const runs: [string, () => string, string[], RegExp][] = [
    [
      "kube-apiserver",
      () => `registry.k8s.io/kube-apiserver:${KUBEADM.defaultVersion}`,
      ["kube-apiserver", "--version"],
      /^Kubernetes v1\.34\.4$/m,
    ],
    [
      "kube-proxy",
      () => `registry.k8s.io/kube-proxy:${KUBEADM.defaultVersion}`,
      ["iptables", "--version"],
      /^iptables v1\.8\.\d+ \(nf_tables\)/m,
    ],
    [
      // The extensions kube-proxy's rules use load (help only: nothing is changed): without them
      // its rules fail ("Couldn't load match `conntrack'") and no Service answers.
      "kube-proxy's iptables with its match and target extensions",
      () => `registry.k8s.io/kube-proxy:${KUBEADM.defaultVersion}`,
      ["iptables", "-m", "conntrack", "-m", "comment", "-m", "statistic", "-m", "mark", "-j", "DNAT", "--help"],
      /^(?=[\s\S]*conntrack match options:)(?=[\s\S]*statistic match options:)(?=[\s\S]*DNAT target options:)/,
    ],
    ["etcd", () => "registry.k8s.io/etcd:3.6.5-0", ["etcd", "--version"], /^etcd Version: 3\.6\.\d+$/m],
    ["coredns", () => "registry.k8s.io/coredns/coredns:v1.12.1", ["/coredns", "-version"], /^CoreDNS-1\.12\.1$/m],
    ["pause", () => "registry.k8s.io/pause:3.10.1", ["/pause", "-v"], /^pause\.c v3\.10\.1/m],
    ["flanneld", () => `ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`, ["/opt/bin/flanneld", "--version"], /v0\.28\.4/],
    ["flannel's cp", () => `ghcr.io/flannel-io/flannel:${FLANNEL_VERSION}`, ["cp", "--version"], /^cp \(GNU coreutils\)/m],
    [
      "the flannel CNI plugin's cp",
      () => "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1",
      ["cp", "--version"],
      /^cp \(GNU coreutils\)/m,
    ],
  ];
  for (const [what, image, argv, expected] of runs) {
    it(`runs ${what} in its image`, () => {
      const id = `oci-k8s-${process.pid}-${what.replace(/[^a-z]/g, "")}`;
      const r = ctr("run", "--rm", "--net-host", image(), id, ...argv);
      assert.match(
        r.stdout + r.stderr,
        expected,
        `${argv.join(" ")} in ${image()} exited ${r.status}:\n${r.stdout}\n${r.stderr}`,
      );
    });
  }
});
