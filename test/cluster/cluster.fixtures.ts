/**
 * The cluster suite's fixtures: the kubeadm drop-in of Kubernetes' packages, the load balancer the
 * suite runs in front of the servers, and the artifact mirror's files (one release or another).
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../scripts/mock-program";
import { Machine, PUBLIC_NET } from "../machines/machine";
import { strict as assert } from "assert";
import { must } from "../tools";
import { flannelManifestPath, KUBELET_SERVICE } from "./kube-files";

export const KUBE_BIN = path.join(ROOT, "tools", "kube", "bin");
/** The release one patch before the pin (tools/kube/build.sh --previous): the cluster forms on it, then upgrades. */
export const PREVIOUS_BIN = path.join(KUBE_BIN, "previous");
export const KUBECTL = path.join(KUBE_BIN, "kubectl");

/**
 * The kubeadm drop-in the Kubernetes packages install (kubernetes/release,
 * cmd/krel/templates/latest/kubeadm/10-kubeadm.conf), beside KUBELET_SERVICE (./kube-files).
 */
export const KUBEADM_DROPIN = `# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;

/** With more than one server, the stack's apiAddress: a load balancer the suite runs in front of them. */
export const BALANCER = `${PUBLIC_NET.prefix}.100`;

/**
 * The load balancer in front of the servers (the suite's, test only): a TCP balancer on
 * BALANCER:6443 inside the suite's namespace that takes each connection to the first server, in
 * turn, that accepts it within a second, as a user's existing balancer (apiAddress) would.
 */
export const BALANCER_PY = `
import asyncio, itertools, sys
backends = sys.argv[2:]
turn = itertools.count()
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    finally:
        w.close()
async def serve(cr, cw):
    start = next(turn)
    for i in range(len(backends)):
        host = backends[(start + i) % len(backends)]
        try:
            br, bw = await asyncio.wait_for(asyncio.open_connection(host, 6443), 1)
        except Exception:
            continue
        await asyncio.gather(pipe(cr, bw), pipe(br, cw), return_exceptions=True)
        return
    cw.close()
async def main():
    server = await asyncio.start_server(serve, sys.argv[1], 6443)
    await server.serve_forever()
asyncio.run(main())
`;

/** The mirror's files (the air-gapped install's release names), each a path on this machine. */
export function mirrorFiles(dir: string, kube = KUBE_BIN): Record<string, string> {
  const cni = path.join(dir, "cni-plugins-linux-amd64.tgz");
  if (!fs.existsSync(cni))
    must("tar", ["-czf", cni, "-C", path.join(KUBE_BIN, "cni"), "bridge", "host-local", "loopback", "portmap", "flannel"]);
  fs.writeFileSync(path.join(dir, "kubelet.service"), KUBELET_SERVICE);
  fs.writeFileSync(path.join(dir, "10-kubeadm.conf"), KUBEADM_DROPIN);
  const files: Record<string, string> = {
    kubeadm: path.join(kube, "kubeadm"),
    kubelet: path.join(kube, "kubelet"),
    kubectl: path.join(kube, "kubectl"),
    "kubelet.service": path.join(dir, "kubelet.service"),
    "10-kubeadm.conf": path.join(dir, "10-kubeadm.conf"),
    "cni-plugins-linux-amd64.tgz": cni,
    "kube-images-amd64.tar": path.join(kube, "kube-images.tar"),
    "kube-flannel.yml": flannelManifestPath(),
  };
  for (const [name, file] of Object.entries(files)) {
    if (path.dirname(file) === dir) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    fs.symlinkSync(file, path.join(dir, name));
  }
  return files;
}

/** The kubelet's protectKernelDefaults checks these (kubelet pkg/kubelet/cm/container_manager_linux.go setupKernelTunables). */
const KERNEL_KEYS = ["vm.overcommit_memory", "vm.panic_on_oom", "kernel.panic", "kernel.panic_on_oops"];

/**
 * The kernel values of the node's 90-oci-k8s.conf (prepare wrote it) that the kubelet checks, shown
 * over /proc/sys in the machine: it cannot set its kernel's values, and the suite leaves the host's.
 */
export function showKernelSettings(m: Machine) {
  const file = m.must("cat /etc/sysctl.d/90-oci-k8s.conf");
  for (const key of KERNEL_KEYS) {
    const value = new RegExp(`^${key.replace(/\./g, "\\.")}\\s*=\\s*(\\S+)`, "m").exec(file)?.[1];
    assert.ok(value !== undefined, `${m.name}: prepare set no ${key}`);
    const f = `/run/machines-kernel/${key}`;
    m.must(`mkdir -p /run/machines-kernel && echo ${value} > ${f}`);
    must("nsenter", ["-t", String(m.leader), "-m", "mount", "--bind", f, `/proc/sys/${key.replace(/\./g, "/")}`]);
  }
}
