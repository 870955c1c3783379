/**
 * The kubeadm cluster the tests form is built at the versions the program pins: tools/kube builds
 * Kubernetes at KUBEADM.defaultVersion (build.sh and go.mod, every staging module at its
 * v0.<minor>.<patch>), and flannel at the version of the manifest kubeadm.sh applies
 * (build-addons.sh and addons/flannel/go.mod). A pin the Go module proxy does not serve cannot be
 * built, so a bump of one without the other fails here.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FLANNEL_MANIFEST, KUBEADM } from "../../k8s/bootstrap/kubeadm";
import { ROOT } from "../../scripts/mock-program";

const KUBE = path.join(ROOT, "tools", "kube");
const read = (...p: string[]) => fs.readFileSync(path.join(KUBE, ...p), "utf8");
const shellPin = (file: string, name: string) => new RegExp(`^${name}=(\\S+)`, "m").exec(read(file))?.[1];

/** go.mod requires k8s.io/kubernetes at VERSION, every staging module at the same v0.<minor>.<patch>. */
function moduleAt(file: string, version: string) {
  const mod = read(file);
  assert.match(mod, new RegExp(`^require k8s\\.io/kubernetes ${version.replace(/\./g, "\\.")}$`, "m"), file);
  const staging = `v0.${version.slice(3)}`;
  const replaces = [...mod.matchAll(/^\t(k8s\.io\/\S+) => k8s\.io\/\S+ (\S+)$/gm)];
  assert.ok(replaces.length > 20, "each staging module is replaced");
  for (const [, module, v] of replaces) assert.equal(v, staging, `${file}: ${module}`);
}

describe("tools/kube builds what the program pins", () => {
  it("Kubernetes at the kubeadm pin, staging modules at the same patch", () => {
    moduleAt("go.mod", KUBEADM.defaultVersion);
  });

  it("the release the cluster suite upgrades from: one patch before the pin (previous/go.mod)", () => {
    const [major, minor, patch] = KUBEADM.defaultVersion.slice(1).split(".").map(Number);
    assert.ok(patch > 0, "the pin has no earlier patch release to upgrade from");
    moduleAt(path.join("previous", "go.mod"), `v${major}.${minor}.${patch - 1}`);
  });

  it("flannel at the version of the manifest kubeadm.sh applies", () => {
    const manifest = /\/download\/(v[\d.]+)\/kube-flannel\.yml$/.exec(FLANNEL_MANIFEST)?.[1];
    assert.ok(manifest, FLANNEL_MANIFEST);
    assert.equal(shellPin("build-addons.sh", "FLANNEL_VERSION"), manifest);
    assert.match(
      read("addons", "flannel", "go.mod"),
      new RegExp(`\\tgithub\\.com/flannel-io/flannel ${manifest.replace(/\./g, "\\.")}\\b`),
    );
  });
});
