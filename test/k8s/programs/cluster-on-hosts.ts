/**
 * A program of the bootstrap and platform layers alone, over plain host fixtures: no config, no
 * stack wiring, no cloud. The layer-boundary tests run it under the mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../../../k8s/bootstrap/cluster";
import { DISTRIBUTIONS } from "../../../k8s/bootstrap/distributions";
import { DrainGate } from "../../../k8s/bootstrap/drain-gate";
import type { Host } from "../../../k8s/bootstrap/types";
import { catalogEntry } from "../../../k8s/platform/catalog";
import { Platform } from "../../../k8s/platform/platform";

const host = (name: string, role: Host["role"], ip: string): Host => ({
  name,
  role,
  arch: "amd64",
  address: ip,
  privateIp: ip,
  memoryGb: 8,
  labels: { "example.org/rack": "a" },
  taints: [],
  machineId: `machine-${name}`,
  machine: "bare metal 8 GB",
  viaBastion: false,
  hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture${name.replace(/-/g, "")}`,
});

export = async () => {
  const distribution = DISTRIBUTIONS[(process.env.FIXTURE_DISTRIBUTION as "k3s" | "rke2" | "kubeadm") ?? "k3s"];
  const gate = new DrainGate(["agent-1"]);
  const cluster = new Cluster("cluster", {
    clusterName: "fixture",
    distribution,
    version: distribution.defaultVersion,
    apiEndpoint: "192.0.2.10",
    hosts: [host("server-1", "server", "192.0.2.11"), host("agent-1", "agent", "192.0.2.21")],
    ssh: { user: "admin" },
    readyMarker: "/var/lib/oci-k8s/host-ready",
    drainGate: gate,
  });
  const components = ["traefik", "cert-manager", "local-path"].map((n) => catalogEntry(n)!);
  const platform = new Platform(
    "platform",
    {
      provider: cluster.provider,
      context: {
        clusterName: "fixture",
        domain: "fixture.example.org",
        ingressAddress: "192.0.2.11",
        distribution: distribution.name,
        acmeEmail: "",
        ingressClass: "traefik",
        storageClass: "local-path",
        dataPath: "/var/mnt/k8s-data",
        nodes: { all: 2, general: 2, ingress: 1, small: 0, withDataVolume: 0 },
        diskGi: 20,
        enabled: new Set(components.map((c) => c.name)),
      },
      components,
      overrides: {},
      installAfter: [cluster.allNodesReady],
    },
    { dependsOn: [cluster.allNodesReady] },
  );
  return {
    apiUrl: cluster.apiUrl,
    storageClass: platform.storageClass,
    agentDrain: pulumi.output(gate.drainOf("agent-1")!.then((d) => d !== undefined)),
  };
};
