/** Private keys in config: every PEM form OpenSSH and the OCI SDK read is accepted, and no error prints one. */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigError, parseConfig } from "../../config";
import { MINIMAL_CONFIG } from "../../scripts/mock-program";
import { requireTool, tempDir } from "../tools";

const PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZ9m0GsvXN3e6k1E3z3Qwo3+0dZmNnKcLq7T6kcGdQf test";

/** The error a config makes, or undefined when it parses. */
function errorOf(raw: Record<string, unknown>): ConfigError | undefined {
  try {
    const own = Object.fromEntries(Object.entries(MINIMAL_CONFIG).filter(([k]) => !k.includes(":")));
    parseConfig({ ...own, ...raw }, "dev");
    return undefined;
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
}

describe("private keys in config", () => {
  it("accepts PKCS#8 keys, plain and encrypted, as openssl writes them, and OpenSSH's own", function () {
    requireTool(this, "openssl");
    requireTool(this, "ssh-keygen");
    this.timeout(20000);
    const dir = tempDir("keys");
    const keys: Record<string, string> = {};
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    openssl("genpkey", "-algorithm", "ed25519", "-out", "pkcs8.pem");
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa8.pem");
    openssl("pkcs8", "-topk8", "-in", "rsa8.pem", "-v2", "aes-256-cbc", "-passout", "pass:x", "-out", "enc.pem");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "openssh")]);
    for (const f of ["pkcs8.pem", "rsa8.pem", "enc.pem", "openssh"]) keys[f] = fs.readFileSync(path.join(dir, f), "utf8");
    fs.rmSync(dir, { recursive: true, force: true });
    assert.match(keys["pkcs8.pem"], /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(keys["enc.pem"], /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    for (const [name, key] of Object.entries(keys))
      assert.equal(errorOf({ sshPublicKey: PUBLIC, sshPrivateKey: key })?.message, undefined, name);
    // A mismatched END line is still refused.
    const mixed = keys["pkcs8.pem"].replace("END PRIVATE", "END RSA PRIVATE");
    assert.ok(errorOf({ sshPublicKey: PUBLIC, sshPrivateKey: mixed }));
  });

  it("never prints a malformed private key (or any secret key's value) in its error", () => {
    const body = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
    const header = "-----BEGIN PRIVATE" + " KEY-----";
    const malformed = [`${header}\n${body}\n`, body, `${header}\n${body}\n-----END RSA PRIVATE KEY-----\n`];
    for (const key of malformed) {
      const e = errorOf({ sshPublicKey: PUBLIC, sshPrivateKey: key });
      assert.ok(e, "accepted a malformed key");
      assert.ok(!e.message.includes(body), `the key's body is in the error:\n${e.message}`);
      assert.match(e.message, /oci-k8s:sshPrivateKey: \[secret, not shown\] must be a PEM or OpenSSH private key/);
    }
    // Key material given under a key that is not secret is not shown either.
    const e = errorOf({ sshPublicKey: `${header}\n${body}\n` });
    assert.ok(e && !e.message.includes(body), e?.message);
  });
});
