/** The Kubernetes objects the platform creates itself, around the charts: issuers, certificates, the GitOps hand-off. */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_CERT_SECRET, PRODUCTION_ISSUER, STAGING_ISSUER } from "./values/shared";

/** A git repository Argo CD takes the cluster's workloads from. */
export interface GitOpsSource {
  readonly repoUrl: string;
  readonly path: string;
  readonly revision: string;
  /** An HTTPS token or an SSH private key (secret); absent for a public repository. */
  readonly credential?: pulumi.Input<string>;
}

export const ACME_SERVERS: Readonly<Record<string, string>> = {
  [STAGING_ISSUER]: "https://acme-staging-v02.api.letsencrypt.org/directory",
  [PRODUCTION_ISSUER]: "https://acme-v02.api.letsencrypt.org/directory",
};

export function clusterIssuer(name: string, email: string, ingressClass: string) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name },
    spec: {
      acme: {
        server: ACME_SERVERS[name],
        ...(email ? { email } : {}),
        privateKeySecretRef: { name: `${name}-account-key` },
        // HTTP-01 through the ingress controller, which the NLB exposes on port 80.
        solvers: [{ http01: { ingress: { ingressClassName: ingressClass } } }],
      },
    },
  };
}

export function defaultCertificate(namespace: string, domain: pulumi.Input<string>) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "ingress-default", namespace },
    spec: {
      secretName: DEFAULT_CERT_SECRET,
      dnsNames: [domain],
      issuerRef: { kind: "ClusterIssuer", name: PRODUCTION_ISSUER },
    },
  };
}

export function repositorySecret(repoUrl: string, credential: pulumi.Input<string>) {
  const ssh = !repoUrl.startsWith("https://");
  return {
    metadata: { name: "gitops-repository", namespace: "argocd", labels: { "argocd.argoproj.io/secret-type": "repository" } },
    type: "Opaque",
    stringData: {
      type: "git",
      url: repoUrl,
      ...(ssh ? { sshPrivateKey: credential } : { username: "git", password: credential }),
    },
  };
}

/** The app-of-apps: Argo CD syncs everything under the path, and owns it from then on. */
export function rootApplication(source: GitOpsSource) {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: "root", namespace: "argocd" },
    spec: {
      project: "default",
      source: { repoURL: source.repoUrl, targetRevision: source.revision, path: source.path, directory: { recurse: true } },
      destination: { server: "https://kubernetes.default.svc", namespace: "argocd" },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    },
  };
}
