/**
 * wait-host.sh runs for real under bash, exactly as sent to a node (lib.sh + script), against a
 * fake cloud-init on PATH; the host-ready marker lands under OCI_K8S_ROOT, a temp dir.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { fakeBin } from "../tools";
import { sandbox } from "./bootstrap-scripts.fixtures";

describe("bootstrap scripts: wait-host.sh", () => {
  const marker = "/var/lib/oci-k8s/host-ready";
  function setup(status: number | "absent", withMarker: boolean, ...args: string[]) {
    const s = sandbox();
    if (status !== "absent") fakeBin(s.bin, "cloud-init", `exit ${status}`);
    if (withMarker) {
      fs.mkdirSync(path.join(s.root, path.dirname(marker)), { recursive: true });
      fs.writeFileSync(path.join(s.root, marker), "2026-11-22T04:00:00Z\n");
    }
    return s.run("wait-host", [marker, ...args]);
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

  it("marker-only (an existing host prepared over SSH): a cloud-init the image left behind is not waited for", () => {
    assert.equal(setup(1, true, "marker-only").status, 0);
    assert.equal(setup(1, false, "marker-only").status, 1);
  });

  it("fails when host preparation left no marker", () => {
    const r = setup(0, false);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /host preparation did not complete.*\n.*prepare step of pulumi up/);
  });
});
