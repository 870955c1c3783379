/**
 * An example consumer of an oci-k8s stack: deploys a small web app with an Ingress and a
 * certificate on the cluster, using only the stack's outputs (read with the typed helper).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { clusterStack } from "../../outputs";

const config = new pulumi.Config();
const cluster = clusterStack(config.require("clusterStack"));
const host = pulumi.interpolate`${config.get("host") ?? "hello"}.${cluster.clusterDomain}`;

// The cluster's kubeconfig output is secret and stays secret in this stack.
const provider = new k8s.Provider("cluster", { kubeconfig: cluster.kubeconfig, clusterIdentifier: cluster.clusterName });
const opts = { provider };

const namespace = new k8s.core.v1.Namespace("web", { metadata: { name: "web" } }, opts);
const labels = { app: "hello" };
const inNamespace = { provider, dependsOn: [namespace] };

new k8s.apps.v1.Deployment(
  "hello",
  {
    metadata: { name: "hello", namespace: "web" },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          // A multi-arch image: it runs on the A1 (arm64) nodes; it does not tolerate the micro taint.
          containers: [
            {
              name: "whoami",
              image: "docker.io/traefik/whoami:v1.11.0",
              args: ["--port", "8080"],
              ports: [{ name: "http", containerPort: 8080 }],
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 65534,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
              },
              resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
              readinessProbe: { httpGet: { path: "/health", port: "http" } },
            },
          ],
        },
      },
    },
  },
  inNamespace,
);

new k8s.core.v1.Service(
  "hello",
  {
    metadata: { name: "hello", namespace: "web" },
    spec: { selector: labels, ports: [{ name: "http", port: 80, targetPort: "http" }] },
  },
  inNamespace,
);

// The cluster's default IngressClass (Traefik or ingress-nginx) serves it; cert-manager gets
// the certificate from the production issuer (the last of clusterIssuers).
new k8s.networking.v1.Ingress(
  "hello",
  {
    metadata: {
      name: "hello",
      namespace: "web",
      annotations: { "cert-manager.io/cluster-issuer": cluster.clusterIssuers.apply((issuers) => issuers[issuers.length - 1]) },
    },
    spec: {
      tls: [{ hosts: [host], secretName: "hello-tls" }],
      rules: [
        {
          host,
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "hello", port: { name: "http" } } } }] },
        },
      ],
    },
  },
  inNamespace,
);

export const url = pulumi.interpolate`https://${host}`;
/** What else the cluster serves (its API, Argo CD, Grafana), read from the stack's urls output. */
export const clusterUrls = cluster.urls;
