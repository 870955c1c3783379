/**
 * A program of the Oracle Cloud layer alone: createInfrastructure from plain inputs, with a port
 * table and an API port of its own (7443, which no distribution uses), so a test can tell that
 * every port comes from the caller.
 */
import { createInfrastructure } from "../../../infra";
import type { InfraNode } from "../../../infra/types";

const a1 = (name: string, role: InfraNode["role"]): InfraNode => ({
  name,
  role,
  shape: "VM.Standard.A1.Flex",
  arch: "arm64",
  ocpus: 1,
  memoryGb: 6,
  bootVolumeGb: 50,
  subnet: "public",
  ingress: role !== "etcd",
  micro: false,
});

export = async () => {
  const infra = createInfrastructure(
    {
      stack: "infra-only",
      clusterName: "infra-only",
      compartmentId: "ocid1.compartment.oc1..aaaaaaaainfraonly",
      tier: "always-free",
      adminCidrs: ["203.0.113.10/32"],
      vcnCidr: "10.0.0.0/16",
      publicSubnetCidr: "10.0.0.0/24",
      privateSubnetCidr: "10.0.1.0/24",
      natGateway: false,
      availabilityDomains: [],
      ubuntuVersion: "24.04",
      nodes: [a1("server-1", "server"), a1("agent-1", "agent")],
    },
    {
      clusterPorts: [{ protocol: "udp", min: 4789, max: 4789, from: "nodes", to: "nodes", description: "a test overlay" }],
      apiPort: 7443,
      internalApi: true,
    },
  );
  return { nodes: infra.nodes.length, ingress: infra.ingress.publicIp };
};
