/** What the mock providers hand out: random values, and the stdout of the remote commands the program reads. */

/** The bcrypt hash the mock random provider hands out with MOCK_TOKEN. */
export const MOCK_BCRYPT = "$2a$10$MockBcryptHashOfTheMockTokenOnly0123456789abcdefghij";
/** The cluster token the mock random provider hands out: tests look for it in every non-secret value. */
export const MOCK_TOKEN = "MockClusterToken0123456789abcdefghijklmnopqrstuv";
/** The 32 bytes the mock random provider hands out for a RandomBytes (an encryption key), base64. */
export const MOCK_KEY_BASE64 = Buffer.from("MockEncryptionKey-32-bytes-long!").toString("base64");
/** kubeadm join material the mock first server prints. */
export const MOCK_JOIN = {
  JOIN_TOKEN: "abcdef.0123456789abcdef",
  CA_CERT_HASH: "sha256:" + "1".repeat(64),
  CERTIFICATE_KEY: "f".repeat(64),
};

/** `firstServerReplaced`: kubeadm's first server was replaced and the cluster lives on, so its rejoin-material prints material. */
export function mockStdout(create: string, firstServerReplaced = false): string {
  if (create.includes(" kubeconfig ")) {
    return [
      "apiVersion: v1",
      "clusters:",
      "- cluster:",
      "    certificate-authority-data: TU9DSy1DQQ==",
      "    server: https://127.0.0.1:6443",
      "  name: default",
      "contexts:",
      "- context: {cluster: default, user: default}",
      "  name: default",
      "current-context: default",
      "kind: Config",
      "users:",
      "- name: default",
      "  user: {client-certificate-data: TU9DSy1DRVJU, client-key-data: TU9DSy1LRVk=}",
      "",
    ].join("\n");
  }
  const rejoin = create.endsWith(" rejoin-material");
  if (create.includes(" join-material ") || (rejoin && firstServerReplaced)) {
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const lines = [`JOIN_TOKEN=${b64(MOCK_JOIN.JOIN_TOKEN)}`, `CA_CERT_HASH=${b64(MOCK_JOIN.CA_CERT_HASH)}`];
    if (create.endsWith(" server") || rejoin) lines.push(`CERTIFICATE_KEY=${b64(MOCK_JOIN.CERTIFICATE_KEY)}`);
    return lines.join("\n") + "\n";
  }
  return "";
}
