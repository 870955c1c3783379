/** Nodes: the machines of the cluster, their shapes and sizes, volumes, placement and image. */
import { z } from "zod";
import { A1_FLEX, BLOCK_VOLUME_GB, DEFAULT_MEMORY_PER_OCPU_GB, MIN_BOOT_VOLUME_GB, SHAPE_NAMES, SHAPES } from "../infra/shapes";
import { refuseEtcdMember } from "../k8s/bootstrap/reserved";
import { NODE_ROLES } from "../k8s/bootstrap/types";
import { ClusterValues } from "./cluster";
import { allowed, Bad, nodeName, str, Values } from "./keys";
import { adName, NetworkValues } from "./network";

export const nodeSchema = z.strictObject({
  name: nodeName(),
  role: z.enum(NODE_ROLES, { error: allowed(NODE_ROLES) }),
  shape: z.enum(SHAPE_NAMES, { error: allowed(SHAPE_NAMES) }).default(A1_FLEX),
  ocpus: z.number({ error: "must be a number" }).optional(),
  memoryGb: z.number({ error: "must be a number" }).optional(),
  bootVolumeGb: z
    .int({ error: "must be a whole number of GB" })
    .min(MIN_BOOT_VOLUME_GB, `must be at least ${MIN_BOOT_VOLUME_GB} GB (Oracle's smallest boot volume)`)
    .max(BLOCK_VOLUME_GB.max, `must be at most ${BLOCK_VOLUME_GB.max} GB`)
    .default(MIN_BOOT_VOLUME_GB),
  dataVolumeGb: z
    .int({ error: "must be a whole number of GB" })
    .min(BLOCK_VOLUME_GB.min, `must be at least ${BLOCK_VOLUME_GB.min} GB (Oracle's smallest block volume)`)
    .max(BLOCK_VOLUME_GB.max, `must be at most ${BLOCK_VOLUME_GB.max} GB`)
    .optional(),
  availabilityDomain: adName().optional(),
  imageId: z
    .string()
    .regex(/^ocid1\.image\.oc\d+\.[a-z0-9-]*\.[a-z0-9]+$/, "must be an image OCID (ocid1.image.oc1.<region>.<id>)")
    .optional(),
  subnet: z.enum(["public", "private"], { error: allowed(["public", "private"]) }).optional(),
  ingress: z.boolean({ error: "must be true or false" }).optional(),
});

export type RawNode = z.infer<typeof nodeSchema>;

/** One line per node field for the configuration reference; typed by the schema, so a new field cannot go undocumented. */
export const NODE_FIELD_DOCS: Readonly<Record<keyof RawNode, string>> = {
  name: "**required** Node name: hostname, Kubernetes node name and resource name (a-z, 0-9, -; 1-30 characters).",
  role: "**required** `server` (control plane, also runs workloads), `agent`, or `etcd` (k3s/RKE2: an etcd member only, no API or workloads; fits a micro). Servers on A1; etcd members (servers + etcd): 1 or 3.",
  shape: "`VM.Standard.A1.Flex` (arm64, default) or `VM.Standard.E2.1.Micro` (amd64, 1/8 OCPU, 1 GB, tainted).",
  ocpus: "A1 only: whole OCPUs, 1-80 (default 1).",
  memoryGb: "A1 only: GB, 1-64 per OCPU (default 6 per OCPU).",
  bootVolumeGb: "Boot volume, at least 50 GB (default 50). Counts against the 200 GB block allowance.",
  dataVolumeGb: "Optional data block volume (at least 50 GB), formatted once and mounted at `/var/mnt/k8s-data`.",
  availabilityDomain: "Optional AD number (1-3) or full AD name; otherwise nodes are spread over `availabilityDomains`.",
  imageId: "Optional image OCID to pin; otherwise the newest Canonical Ubuntu image for the shape at creation.",
  subnet: "`public` or `private` (default: private with `natGateway`, else public). Private needs `natGateway`.",
  ingress: "Receives 80/443 from the load balancer (default: true on A1, false and not allowed on micro).",
};

/** The nodes of a stack that lists none (on Oracle Cloud): one A1 server with all the free A1. */
export const DEFAULT_NODES: RawNode[] = [
  { name: "server-1", role: "server", shape: A1_FLEX, ocpus: 2, memoryGb: 12, bootVolumeGb: 50, dataVolumeGb: 100 },
];

export const NODE_KEYS = {
  ubuntuVersion: str(
    z
      .string()
      .regex(/^\d{2}\.\d{2}$/, "must be an Ubuntu release like 24.04")
      .default("24.04"),
    "Canonical Ubuntu release of the node images (newest image for the shape, unless a node pins imageId).",
  ),
  nodes: {
    // Optional, so a hosts stack can be told from one that lists nodes; the default applies on Oracle Cloud.
    schema: z.array(nodeSchema, { error: "must be a list of nodes" }).optional(),
    type: "object" as const,
    description:
      "The nodes: a list of {name, role (server|agent|etcd), shape, ocpus, memoryGb, bootVolumeGb, dataVolumeGb, availabilityDomain, imageId, subnet, ingress}.",
  },
};

export type NodeValues = Omit<Values<typeof NODE_KEYS>, "nodes"> & { readonly nodes: RawNode[] };
type Context = NodeValues & Pick<NetworkValues, "natGateway"> & Pick<ClusterValues, "distribution">;

export function checkNodes(c: Context, bad: Bad): void {
  if (c.nodes.length === 0) {
    bad("nodes", c.nodes, "must list at least one node with role: server");
    return;
  }
  const seen = new Set<string>();
  c.nodes.forEach((n, i) => {
    if (seen.has(n.name)) bad(`nodes[${i}].name`, n.name, "is used by an earlier node; node names must be unique");
    seen.add(n.name);
    checkNode(n, `nodes[${i}]`, c, bad);
  });
  checkNodeSet(c, bad);
}

/** One node: its size fits its shape, and its role and placement fit the rest of the stack. */
function checkNode(n: RawNode, at: string, c: Context, bad: Bad): void {
  const shape = SHAPES[n.shape];
  if (shape.kind === "flex") {
    const ocpus = n.ocpus ?? 1;
    const { min, max } = shape.ocpus;
    if (!Number.isInteger(ocpus) || ocpus < min || ocpus > max) {
      bad(`${at}.ocpus`, n.ocpus, `must be a whole number from ${min} to ${max} for ${n.shape}`);
    } else if (n.memoryGb !== undefined) {
      const lo = ocpus * shape.memoryPerOcpuGb.min;
      const hi = Math.min(ocpus * shape.memoryPerOcpuGb.max, shape.maxMemoryGb);
      if (!Number.isInteger(n.memoryGb) || n.memoryGb < lo || n.memoryGb > hi) {
        bad(`${at}.memoryGb`, n.memoryGb, `must be a whole number from ${lo} to ${hi} GB for ${ocpus} OCPU of ${n.shape}`);
      }
    }
  } else {
    const fixed = `${n.shape} has a fixed size (${shape.ocpus} OCPU, ${shape.memoryGb} GB); remove the key`;
    if (n.ocpus !== undefined && n.ocpus !== shape.ocpus) bad(`${at}.ocpus`, n.ocpus, fixed);
    if (n.memoryGb !== undefined && n.memoryGb !== shape.memoryGb) bad(`${at}.memoryGb`, n.memoryGb, fixed);
    if (n.role === "server") {
      bad(
        `${at}.role`,
        n.role,
        `needs ${A1_FLEX}: a ${shape.memoryGb} GB ${n.shape} cannot hold a control plane; use role: agent`,
      );
    }
    if (n.ingress) {
      bad(`${at}.ingress`, true, `is not allowed on ${n.shape}: micro nodes are tainted and run no ingress controller`);
    }
  }
  if (n.role === "etcd" && c.distribution === "kubeadm") {
    bad(
      `${at}.role`,
      n.role,
      "needs k3s or rke2: kubeadm's stacked etcd runs only on control-plane servers (three A1 servers, billed beyond 2 OCPU / 12 GB)",
    );
  }
  const etcdRefusal =
    n.role === "etcd" && SHAPES[n.shape] && refuseEtcdMember(c.distribution, n.role, resolveNode(n, c.natGateway).memoryGb);
  if (etcdRefusal) bad(`${at}.role`, n.role, etcdRefusal);
  if (n.role === "etcd" && n.ingress) bad(`${at}.ingress`, true, "is not allowed on an etcd-only node: it runs no workloads");
  if (n.subnet === "private" && !c.natGateway) {
    bad(`${at}.subnet`, n.subnet, "needs natGateway: true (a private node has no other way to the internet)");
  }
}

/** The nodes together: a server, an odd etcd membership, an ingress node, an SSH jump host. */
function checkNodeSet(c: Context, bad: Bad): void {
  const names = c.nodes.map((n) => n.name);
  const servers = c.nodes.filter((n) => n.role === "server").length;
  const members = c.nodes.filter((n) => n.role !== "agent").length;
  if (servers === 0) bad("nodes", names, "must include at least one node with role: server");
  else if (members % 2 === 0) {
    bad(
      "nodes",
      `${members} etcd members (servers and etcd nodes)`,
      "must have an odd number of etcd members (1 or 3): an even count adds no fault tolerance",
    );
  }
  if (!c.nodes.some((n) => isIngress(n))) bad("nodes", names, `must include an ${A1_FLEX} node that takes ingress traffic`);
  if (c.natGateway && !c.nodes.some((n) => n.subnet === "public")) {
    bad("nodes", names, "with natGateway on, nodes are private: give one node subnet: public to serve as the SSH jump host");
  }
}

function isIngress(n: RawNode): boolean {
  return n.ingress ?? (n.role !== "etcd" && SHAPES[n.shape].kind === "flex");
}

/** A node with every default resolved. */
function resolveNode(n: RawNode, natGateway: boolean) {
  const shape = SHAPES[n.shape];
  const ocpus = shape.kind === "flex" ? (n.ocpus ?? 1) : shape.ocpus;
  const memoryGb = shape.kind === "flex" ? (n.memoryGb ?? ocpus * DEFAULT_MEMORY_PER_OCPU_GB) : shape.memoryGb;
  return {
    name: n.name,
    role: n.role,
    shape: n.shape as string,
    arch: shape.arch,
    ocpus,
    memoryGb,
    bootVolumeGb: n.bootVolumeGb,
    dataVolumeGb: n.dataVolumeGb,
    availabilityDomain: n.availabilityDomain,
    imageId: n.imageId,
    subnet: n.subnet ?? (natGateway ? ("private" as const) : ("public" as const)),
    /** Receives ports 80/443 from the ingress load balancer. */
    ingress: isIngress(n),
    /** A 1 GB micro node, tainted so that only workloads that tolerate it land there. */
    micro: shape.kind === "fixed",
  };
}

export type NodeSpec = Readonly<ReturnType<typeof resolveNode>>;

export function resolveNodes(c: NodeValues & Pick<NetworkValues, "natGateway">) {
  return { ubuntuVersion: c.ubuntuVersion, nodes: c.nodes.map((n): NodeSpec => resolveNode(n, c.natGateway)) };
}
