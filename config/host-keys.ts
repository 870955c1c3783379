/** SSH host keys as the stack gives them: complete OpenSSH public keys, a .pub line's comment allowed. */
/** Host key algorithms OpenSSH's sshd offers, with the key blob's fields after the type name. */
const HOST_KEY_TYPES: Readonly<Record<string, (fields: Buffer[]) => boolean>> = {
  "ssh-ed25519": (f) => f.length === 1 && f[0].length === 32,
  "ssh-rsa": (f) => f.length === 2 && f[1].length >= 128,
  "ecdsa-sha2-nistp256": (f) => f.length === 2 && f[0].toString() === "nistp256" && f[1].length === 65,
  "ecdsa-sha2-nistp384": (f) => f.length === 2 && f[0].toString() === "nistp384" && f[1].length === 97,
  "ecdsa-sha2-nistp521": (f) => f.length === 2 && f[0].toString() === "nistp521" && f[1].length === 133,
};
export const HOST_KEY_MESSAGE = `must be a complete OpenSSH public host key (ssh-keyscan, or a host's /etc/ssh/ssh_host_*_key.pub line); key types: ${Object.keys(HOST_KEY_TYPES).join(", ")}`;

/** The SSH wire-format strings of a key blob (RFC 4253 section 6.6: string type, then the key's fields). */
function sshStrings(blob: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (let at = 0; at < blob.length;) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return undefined;
    out.push(blob.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

/** `type base64 [comment]`: the blob decodes, names the same type, and holds a whole key of it. */
export function isCompleteHostKey(line: string): boolean {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2 || /[\r\n]/.test(line.trim())) return false;
  const [type, data] = parts;
  const check = HOST_KEY_TYPES[type];
  if (!check || !/^[A-Za-z0-9+/]+={0,2}$/.test(data) || data.length % 4 !== 0) return false;
  const fields = sshStrings(Buffer.from(data, "base64"));
  return fields !== undefined && fields[0]?.toString() === type && check(fields.slice(1));
}

/** The key without its comment: what every connection pins. */
export const hostKeyOnly = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(" ");
