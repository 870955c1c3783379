#!/usr/bin/env bash
# S3 requests for the backup tools (etcd-snapshot.sh, recovery.sh); k8s/bootstrap/scripts.ts puts
# this file after lib.sh in front of the scripts that use it.
set -euo pipefail

# s3 METHOD PATH [QUERY [FILE]] : one request signed with AWS Signature V4 here (python3, which
# every Ubuntu image has for cloud-init), not by curl: curl before 7.87 leaves out
# x-amz-content-sha256, which S3 and OCI's S3 compatibility API require. The payload hash is the
# file's real SHA-256. The whole request (URL, headers, signature) reaches curl on its stdin; the
# keys reach python3 in its environment; neither is on a command line.
s3() {
  local method=$1 path=$2 query=${3:-} file=${4:-}
  local upload=()
  [[ -n "$file" ]] && upload=(-T "$file")
  S3_ACCESS_KEY="$S3_ACCESS_KEY" S3_SECRET_KEY="$S3_SECRET_KEY" S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION" \
    S3_SCHEME="${OCI_K8S_S3_SCHEME:-https}" python3 -c "$sigv4" "$method" "$path" "$query" "$file" |
    curl -K - --fail --silent --show-error --max-time "${OCI_K8S_S3_TIMEOUT:-600}" "${upload[@]}"
}
sigv4='
import datetime, hashlib, hmac, os, sys, urllib.parse
method, path, query, payload = sys.argv[1:5]
e = os.environ
h = hashlib.sha256()
if payload:
    with open(payload, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
body = h.hexdigest()
amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
q = lambda v: urllib.parse.quote(v, safe="-_.~")
cpath = urllib.parse.quote(path, safe="/-_.~")
cquery = "&".join(q(k) + "=" + q(v) for k, v in sorted(urllib.parse.parse_qsl(query, keep_blank_values=True)))
headers = {"host": e["S3_ENDPOINT"], "x-amz-content-sha256": body, "x-amz-date": amz}
signed = ";".join(sorted(headers))
canonical = "\n".join([method, cpath, cquery] + [k + ":" + headers[k] for k in sorted(headers)] + ["", signed, body])
scope = amz[:8] + "/" + e["S3_REGION"] + "/s3/aws4_request"
to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
key = ("AWS4" + e["S3_SECRET_KEY"]).encode()
for part in (amz[:8], e["S3_REGION"], "s3", "aws4_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
print("url = \"%s://%s%s%s\"" % (e["S3_SCHEME"], e["S3_ENDPOINT"], cpath, "?" + cquery if cquery else ""))
print("request = \"%s\"" % method)
print("header = \"x-amz-date: %s\"" % amz)
print("header = \"x-amz-content-sha256: %s\"" % body)
print("header = \"Authorization: AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s\"" % (e["S3_ACCESS_KEY"], scope, signed, signature))
'
