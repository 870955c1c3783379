/**
 * The metallb component: Services of type LoadBalancer on machines with no cloud load balancer,
 * from an address pool the stack names, announced on the LAN (L2, ARP) or to routers (BGP). Its
 * settings (addresses, mode, BGP peers) sit under componentValues.metallb beside its Helm values;
 * the pool and advertisements are MetalLB's own objects, created once its CRDs exist.
 */
import * as k8s from "@pulumi/kubernetes";
import { z } from "zod";
import { BOTH, type CatalogEntry } from "../component";
import { res } from "../resources";

const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const ADDRESSES =
  /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)(\/([12]?\d|3[0-2])|-((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d))$/;
const ASN = z
  .int({ error: "must be a whole AS number" })
  .min(1, "must be an AS number from 1")
  .max(4294967295, "must be at most 4294967295");

/** MetalLB's settings in componentValues.metallb: the pool, how it is announced, and the BGP peers. */
export const METALLB_SETTINGS = z
  .object({
    addresses: z
      .array(z.string().regex(ADDRESSES, "must be a CIDR (192.168.10.0/28) or a range (192.168.10.240-192.168.10.250)"), {
        error: "must be a list of CIDRs or address ranges",
      })
      .min(1, "must name at least one CIDR or address range"),
    mode: z.enum(["l2", "bgp"], { error: "allowed: l2, bgp" }).default("l2"),
    myAsn: ASN.optional(),
    peers: z
      .array(z.strictObject({ address: z.string().regex(IPV4, "must be an IPv4 address"), asn: ASN }), {
        error: "must be a list of {address, asn}",
      })
      .default([]),
  })
  .superRefine((s, ctx) => {
    if (s.mode !== "bgp") return;
    if (s.myAsn === undefined)
      ctx.addIssue({ code: "custom", path: ["myAsn"], message: "must be set in bgp mode (the cluster's AS number)" });
    if (s.peers.length === 0)
      ctx.addIssue({ code: "custom", path: ["peers"], message: "must name at least one router in bgp mode" });
  });

type Settings = z.output<typeof METALLB_SETTINGS>;

export const METALLB: CatalogEntry = {
  name: "metallb",
  layer: "addon",
  description: "MetalLB: Services of type LoadBalancer on bare metal, from an address pool announced by L2 (ARP) or BGP",
  helm: { chart: "metallb", repo: "https://metallb.github.io/metallb", version: "0.16.1" },
  namespace: "metallb-system",
  needs: [],
  arch: BOTH,
  onSmallNodes: false,
  // The speakers find each other (memberlist) on the nodes' own network.
  hostPorts: [
    { protocol: "tcp", port: 7946, description: "MetalLB speaker memberlist" },
    { protocol: "udp", port: 7946, description: "MetalLB speaker memberlist" },
  ],
  hostAccess: ["speaker: hostNetwork and NET_RAW to answer ARP and speak BGP (its chart's defaults)"],
  workloads: {
    controller: { resources: res(10, 64, 200, 128), replicas: 1 },
    speaker: { resources: res(20, 64, 200, 128), replicas: "allNodes" },
  },
  // MetalLB's native implementation (L2 and BGP, no FRR): the chart's default since 0.16 is the
  // frr-k8s subchart, a DaemonSet of its own on every node with no resources set, which the
  // capacity check would not count. Its installation docs name exactly these two values for it.
  //
  // kubeadm labels every control-plane node node.kubernetes.io/exclude-from-external-load-balancers,
  // and MetalLB's speakers announce nothing from such a node (metallb v0.16.1
  // speaker/layer2_controller.go and bgp_controller.go, internal/k8s/nodes/nodes.go) unless told
  // `--ignore-exclude-lb` (chart value speaker.ignoreExcludeLB). The program's servers run
  // workloads like any node, and on a servers-only cluster they are the only announcers.
  values: (ctx, w) => ({
    controller: { resources: w.controller.resources },
    speaker: {
      resources: w.speaker.resources,
      frr: { enabled: false },
      ...(ctx.distribution === "kubeadm" ? { ignoreExcludeLB: true } : {}),
    },
    frrk8s: { enabled: false },
  }),
  requiredValues: ["addresses"],
  settings: METALLB_SETTINGS as unknown as z.ZodObject,
  objectsAfter: ({ entry, settings, opts }) => {
    const s = settings as Settings;
    const ns = entry.namespace;
    const object = (kind: string, name: string, spec: unknown, apiVersion = "metallb.io/v1beta1") =>
      new k8s.apiextensions.CustomResource(
        `metallb-${kind.toLowerCase()}-${name}`,
        { apiVersion, kind, metadata: { name, namespace: ns }, spec },
        opts,
      );
    object("IPAddressPool", "default", { addresses: s.addresses });
    if (s.mode === "l2") {
      object("L2Advertisement", "default", { ipAddressPools: ["default"] });
      return;
    }
    s.peers.forEach((p, i) =>
      object("BGPPeer", `peer-${i + 1}`, { myASN: s.myAsn, peerASN: p.asn, peerAddress: p.address }, "metallb.io/v1beta2"),
    );
    object("BGPAdvertisement", "default", { ipAddressPools: ["default"] });
  },
};
