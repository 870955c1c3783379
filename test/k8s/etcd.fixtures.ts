/** Shared by the etcd tests: fixtures and helpers. */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { must } from "../tools";

export const REPO = path.resolve(__dirname, "../..");

export interface Flavour {
  readonly version: "3.4" | "3.6";
  readonly image: string;
  readonly etcd: string;
  readonly etcdctl: string;
  readonly etcdutl?: string;
  readonly ip: string;
}

export const FLAVOURS: Flavour[] = [
  {
    version: "3.4",
    image: "registry.k8s.io/etcd:3.4.23-0",
    etcd: "/usr/bin/etcd",
    etcdctl: "/usr/bin/etcdctl",
    ip: "127.0.0.61",
  },
  {
    version: "3.6",
    image: "registry.k8s.io/etcd:3.6.16-0",
    etcd: path.join(REPO, "tools/etcd/bin/etcd"),
    etcdctl: path.join(REPO, "tools/etcd/bin/etcdctl"),
    etcdutl: path.join(REPO, "tools/etcd/bin/etcdutl"),
    ip: "127.0.0.62",
  },
];

/** kubeadm's etcd static pod manifest, as far as the scripts and the stand-in read it: member cp-a, data in /var/lib/etcd. */
export function etcdManifest(client: string, peer: string, pki: string, image: string): string {
  return [
    "apiVersion: v1",
    "kind: Pod",
    "metadata:",
    "  name: etcd",
    "  namespace: kube-system",
    "spec:",
    "  containers:",
    "  - command:",
    "    - etcd",
    `    - --advertise-client-urls=${client}`,
    `    - --cert-file=${pki}/server.crt`,
    "    - --client-cert-auth=true",
    "    - --data-dir=/var/lib/etcd",
    `    - --initial-advertise-peer-urls=${peer}`,
    `    - --initial-cluster=cp-a=${peer}`,
    `    - --key-file=${pki}/server.key`,
    `    - --listen-client-urls=${client}`,
    `    - --listen-peer-urls=${peer}`,
    "    - --name=cp-a",
    "    - --snapshot-count=10000",
    `    - --trusted-ca-file=${pki}/ca.crt`,
    `    image: ${image}`,
    "",
  ].join("\n");
}

/** The static-pod stand-in: the kubelet's part, for etcd.yaml only. `stuck` makes stops hang. */
export const KUBELET = `#!/usr/bin/env bash
manifests=$1 root=$2 etcd_bin=$3
pid=""
stop() { if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""; fi; }
trap 'stop; exit 0' TERM INT
while true; do
  if [[ -f "$manifests/etcd.yaml" ]]; then
    if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then
      args=()
      while read -r a; do
        case "$a" in --data-dir=*) a="--data-dir=$root\${a#--data-dir=}" ;; esac
        args+=("$a")
      done < <(sed -n 's/^    - \\(--.*\\)/\\1/p' "$manifests/etcd.yaml")
      "$etcd_bin" "\${args[@]}" >>"$root/etcd.log" 2>&1 &
      pid=$!
      echo "$pid" >"$root/etcd.pid"
    fi
  elif [[ -n "$pid" && ! -f "$root/stuck" ]]; then
    stop
  fi
  sleep 0.2 & wait $!
done
`;

/** An S3 endpoint that checks SigV4 as S3 does (x-amz-content-sha256 required and equal to the body's). */
export const S3_SERVER = `
const http = require("http"), crypto = require("crypto"), fs = require("fs"), path = require("path");
const [ip, access, secret, region, store] = process.argv.slice(2);
const sha = (b) => crypto.createHash("sha256").update(b).digest("hex");
const hmac = (k, s) => crypto.createHmac("sha256", k).update(s).digest();
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    const deny = (code, why) => { fs.appendFileSync(path.join(store, "denied.log"), why + "\\n"); res.writeHead(code); res.end("<Error><Code>" + why + "</Code></Error>"); };
    if (fs.existsSync(path.join(store, "refuse"))) return deny(403, "AccessDenied");
    const auth = /^AWS4-HMAC-SHA256 Credential=([^/]+)\\/(\\d{8})\\/([^/]+)\\/s3\\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(req.headers.authorization || "");
    if (!auth) return deny(403, "MissingSecurityHeader");
    const [, key, day, reg, signedHeaders, signature] = auth;
    const payload = req.headers["x-amz-content-sha256"];
    if (!payload) return deny(400, "MissingContentSHA256");
    if (payload !== sha(body)) return deny(400, "XAmzContentSHA256Mismatch");
    const signed = signedHeaders.split(";");
    if (!signed.includes("host") || !signed.includes("x-amz-content-sha256") || !signed.includes("x-amz-date")) return deny(403, "HeadersNotSigned");
    if (key !== access || reg !== region) return deny(403, "InvalidAccessKeyId");
    const url = new URL(req.url, "http://x");
    const query = [...url.searchParams].map(([k, v]) => [enc(k), enc(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((p) => p.join("=")).join("&");
    const canonical = [req.method, url.pathname, query, ...signed.map((h) => h + ":" + String(req.headers[h]).trim()), "", signedHeaders, payload].join("\\n");
    const scope = day + "/" + region + "/s3/aws4_request";
    const toSign = ["AWS4-HMAC-SHA256", req.headers["x-amz-date"], scope, sha(canonical)].join("\\n");
    let k = hmac("AWS4" + secret, day);
    for (const p of [region, "s3", "aws4_request"]) k = hmac(k, p);
    if (crypto.createHmac("sha256", k).update(toSign).digest("hex") !== signature) return deny(403, "SignatureDoesNotMatch");
    const object = path.join(store, decodeURIComponent(url.pathname));
    if (req.method === "PUT") { fs.mkdirSync(path.dirname(object), { recursive: true }); fs.writeFileSync(object, body); res.writeHead(200); return res.end(); }
    if (req.method === "DELETE") { fs.rmSync(object, { force: true }); res.writeHead(204); return res.end(); }
    if (req.method === "GET" && fs.existsSync(object) && fs.statSync(object).isFile()) { res.writeHead(200); return res.end(fs.readFileSync(object)); }
    if (req.method === "GET") {
      const bucket = path.join(store, url.pathname);
      const prefix = url.searchParams.get("prefix") || "";
      const keys = [];
      const walk = (d) => { if (fs.existsSync(d)) for (const f of fs.readdirSync(d, { withFileTypes: true })) f.isDirectory() ? walk(path.join(d, f.name)) : keys.push(path.relative(bucket, path.join(d, f.name))); };
      walk(bucket);
      res.writeHead(200);
      return res.end("<ListBucketResult>" + keys.filter((x) => x.startsWith(prefix)).map((x) => "<Contents><Key>" + x + "</Key></Contents>").join("") + "</ListBucketResult>");
    }
    deny(405, "MethodNotAllowed");
  });
}).listen(0, ip, function () { fs.writeFileSync(path.join(store, "port"), String(this.address().port)); });
`;

export const children: ChildProcess[] = [];
export function start(cmd: string, args: string[]): ChildProcess {
  const child = spawn(cmd, args, { stdio: "ignore" });
  children.push(child);
  return child;
}
export async function stopAll(): Promise<void> {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.pid === undefined) continue;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid, "SIGTERM");
    await Promise.race([exited, sleep(5000).then(() => child.exitCode === null && process.kill(child.pid!, "SIGKILL"))]);
  }
}
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A CA, a server certificate for IP, and kubeadm's healthcheck client certificate. A CA already in
 * `pki` is kept and signs them, as kubeadm init uses a CA it finds (a restored one).
 */
export function certificates(pki: string, ip: string): void {
  fs.mkdirSync(pki, { recursive: true });
  const o = (...args: string[]) => must("openssl", args);
  if (!fs.existsSync(`${pki}/ca.key`) || !fs.existsSync(`${pki}/ca.crt`))
    o(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=etcd-ca",
      "-keyout",
      `${pki}/ca.key`,
      "-out",
      `${pki}/ca.crt`,
    );
  for (const [name, cn, ext] of [
    ["server", "server", `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth,clientAuth`],
    ["healthcheck-client", "kube-etcd-healthcheck-client", "extendedKeyUsage=clientAuth"],
  ]) {
    fs.writeFileSync(`${pki}/${name}.ext`, ext);
    o(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${pki}/${name}.key`,
      "-out",
      `${pki}/${name}.csr`,
    );
    o(
      "x509",
      "-req",
      "-in",
      `${pki}/${name}.csr`,
      "-CA",
      `${pki}/ca.crt`,
      "-CAkey",
      `${pki}/ca.key`,
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      `${pki}/${name}.ext`,
      "-out",
      `${pki}/${name}.crt`,
    );
  }
}
