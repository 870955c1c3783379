/**
 * kubeadm's control-plane endpoint pin in /etc/hosts survives a reboot on an image whose
 * cloud-init has `manage_etc_hosts: true`: cloud-init's cc_update_etc_hosts renders /etc/hosts
 * from /etc/cloud/templates/hosts.<os family>.tmpl at every boot (PER_ALWAYS), so the pin goes
 * into the templates as well. Rendered here with the real cloud-init templater (Debian's
 * cloud-init 22.4.2 and its own hosts.debian.tmpl) where they are installed.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fakeBin, missing } from "../tools";
import { sandbox } from "./bootstrap-scripts.fixtures";

const TEMPLATES = "/etc/cloud/templates";
const PIN = "10.10.0.10 kube-api.c.internal # oci-k8s control-plane endpoint";

describe("kubeadm's endpoint pin survives cloud-init's manage_etc_hosts", function () {
  this.timeout(60_000);

  it("the pin is in /etc/hosts and in every hosts template, and cloud-init's rendering of the template keeps it", function () {
    const probe = spawnSync("/usr/bin/python3", ["-c", "import cloudinit.templater"], { encoding: "utf8" });
    if (probe.status !== 0 || !fs.existsSync(path.join(TEMPLATES, "hosts.debian.tmpl")))
      missing(this, "cloud-init (its Python templater and /etc/cloud/templates)", "apt-get install cloud-init");
    const s = sandbox();
    const templates = path.join(s.root, "etc/cloud/templates");
    fs.mkdirSync(templates, { recursive: true });
    for (const t of ["hosts.debian.tmpl", "hosts.redhat.tmpl"]) fs.copyFileSync(path.join(TEMPLATES, t), path.join(templates, t));
    fs.writeFileSync(path.join(s.root, "etc/hosts"), "127.0.0.1 localhost\n");
    // A joined agent (kubelet.conf there, the kubelet on the version): only the pin runs.
    fs.mkdirSync(path.join(s.root, "etc/kubernetes"), { recursive: true });
    fs.writeFileSync(path.join(s.root, "etc/kubernetes/kubelet.conf"), "");
    fakeBin(s.bin, "kubelet", `echo "Kubernetes v1.34.9"`);
    fakeBin(s.bin, "systemctl");
    const settings = {
      VERSION: "v1.34.9",
      CONFIG: "kind: JoinConfiguration",
      API_NAME: "kube-api.c.internal",
      API_ADDRESS: "10.10.0.10",
    };
    for (let run = 0; run < 2; run++) {
      const r = s.run("kubeadm", ["join"], settings);
      assert.equal(r.status, 0, r.stderr);
    }
    const lines = (f: string) => fs.readFileSync(f, "utf8").split("\n");
    assert.deepEqual(
      lines(path.join(s.root, "etc/hosts")).filter((l) => l.includes("oci-k8s")),
      [PIN],
    );
    for (const t of ["hosts.debian.tmpl", "hosts.redhat.tmpl"]) {
      const file = path.join(templates, t);
      assert.equal(lines(file).filter((l) => l.includes("oci-k8s")).length, 1, t);
      assert.equal(lines(file)[0], "## template:jinja", `${t} is still a template`);
      // What cloud-init writes at boot (cc_update_etc_hosts: render_to_file(template, /etc/hosts)).
      const out = path.join(s.root, `rendered-${t}`);
      const render = spawnSync(
        "/usr/bin/python3",
        [
          "-c",
          "import sys; from cloudinit import templater; templater.render_to_file(sys.argv[1], sys.argv[2], {'hostname': 'cp-1', 'fqdn': 'cp-1.lab'})",
          file,
          out,
        ],
        { encoding: "utf8" },
      );
      assert.equal(render.status, 0, render.stderr);
      assert.ok(lines(out).includes(PIN), `${t} rendered without the pin`);
      assert.ok(
        lines(out).some((l) => l.includes("cp-1")),
        "rendered for the host",
      );
    }
  });
});
