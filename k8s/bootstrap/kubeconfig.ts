/** The admin kubeconfig: read from the first server, renamed after the cluster, pointed at the API endpoint. */
import { parse, stringify } from "yaml";

/** The distribution's admin kubeconfig, renamed after the cluster and pointed at the API endpoint. */
export function adminKubeconfig(text: string, apiUrl: string, clusterName: string): string {
  const doc = parse(text) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
    users: { name: string; user: Record<string, unknown> }[];
    contexts: { name: string; context: Record<string, unknown> }[];
  };
  if (!doc?.clusters?.[0] || !doc.users?.[0]) throw new Error("the first server returned no kubeconfig; run pulumi up again");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { ...doc.clusters[0].cluster, server: apiUrl } }],
    users: [{ name: `${clusterName}-admin`, user: doc.users[0].user }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: `${clusterName}-admin` } }],
    "current-context": clusterName,
  });
}
