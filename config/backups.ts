/** Backups: when etcd snapshots are taken, how many are kept, and the bucket they are copied to. */
import { X509Certificate } from "crypto";
import { gunzipSync } from "zlib";
import { z } from "zod";
import { EtcdBackup, Restored } from "../k8s/bootstrap/distributions";
import type { DistributionName } from "../k8s/bootstrap/distributions";
import { Bad, secret, SECRET_NOT_SHOWN, str, Values } from "./keys";

/** The five fields of a cron schedule (man 5 crontab, Vixie cron as Debian and Ubuntu ship it), with their ranges and names. */
const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
] as const;

/**
 * What is wrong with a cron schedule, or undefined: exactly five fields separated by spaces, each
 * a list of `*`, a number or a range, with an optional `/step`, within the field's range (a name
 * alone for month and day of week). Nothing else, so the schedule can never carry a command, a
 * comment or another line into the crontab it is written to (`@reboot`, `#`, a newline).
 */
export function cronProblem(schedule: string): string | undefined {
  const fields = schedule.split(/[ \t]+/);
  if (!/^[^ \t]/.test(schedule) || fields.length !== 5) return `has ${fields.length} fields`;
  for (const [i, field] of fields.entries()) {
    const spec = CRON_FIELDS[i];
    const names: readonly string[] = "names" in spec ? spec.names : [];
    if (names.includes(field.toLowerCase())) continue;
    for (const part of field.split(",")) {
      const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      const within = (n: string | undefined) => n === undefined || (Number(n) >= spec.min && Number(n) <= spec.max);
      if (!m || !within(m[2]) || !within(m[3]) || (m[3] !== undefined && Number(m[3]) < Number(m[2])) || m[4] === "0")
        return `${spec.name} "${field}" is not a number ${spec.min}-${spec.max}, a range, a list or */step`;
    }
  }
  return undefined;
}

export const BACKUP_KEYS = {
  etcdBackupSchedule: str(
    z
      .string()
      .superRefine((v, ctx) => {
        const problem = cronProblem(v);
        if (problem)
          ctx.addIssue({
            code: "custom",
            message: `must be a 5-field cron schedule (minute hour day-of-month month day-of-week) like '0 */6 * * *': ${problem}`,
          });
      })
      .default("0 */6 * * *"),
    "When etcd snapshots are taken (cron, UTC on the nodes).",
  ),
  etcdBackupRetention: {
    schema: z
      .int({ error: "must be a whole number" })
      .min(1, "must keep at least 1 snapshot")
      .max(500, "must be at most 500")
      .default(28),
    type: "integer" as const,
    description: "etcd snapshots kept on each server and in the bucket (28 = a week at the default schedule).",
  },
  etcdBackupBucket: str(
    z
      .string()
      .regex(/^([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])?$/, "must be a bucket name, or empty")
      .default(""),
    "S3-compatible bucket (e.g. OCI Object Storage, free up to 20 GB) the etcd snapshots are also uploaded to; empty keeps them on the servers only.",
  ),
  etcdBackupEndpoint: str(
    z
      .string()
      .regex(/^([a-z0-9.-]+(:\d+)?)?$/, "must be a host name like <namespace>.compat.objectstorage.<region>.oraclecloud.com")
      .default(""),
    "S3 endpoint host of etcdBackupBucket, e.g. <namespace>.compat.objectstorage.<region>.oraclecloud.com.",
  ),
  etcdBackupRegion: str(z.string().default(""), "Region of etcdBackupBucket, e.g. eu-frankfurt-1."),
  etcdBackupAccessKey: secret(
    z.string().default(""),
    "Access key of an OCI customer secret key for etcdBackupBucket (set it with --secret).",
  ),
  etcdBackupSecretKey: secret(z.string().default(""), "Secret key of that customer secret key (set it with --secret)."),
  etcdBackupRecoveryCertificate: str(
    z.string().default(""),
    "PEM certificate (public) the servers encrypt their recovery bundle to (cluster token or kubeadm CAs, Sealed Secrets keys), uploaded beside the snapshots; you keep its private key off the cluster. Required with etcdBackupBucket (docs/operations.md, Disaster recovery).",
  ),
  restoreClusterToken: secret(
    z.string().default(""),
    "Rebuilding k3s/RKE2 from the bucket on a new stack only: the old cluster's token, from its recovery bundle (var/lib/rancher/<k3s|rke2>/server/token), used instead of a new one (set it with --secret; docs/operations.md, Disaster recovery).",
  ),
  restoreEncryptionKey: secret(
    z.string().default(""),
    "Rebuilding kubeadm from the bucket on a new stack only: the old cluster's secretbox key (the `secret:` of the bundle's encryption-config.yaml), used instead of a new one (set it with --secret).",
  ),
  restoreKubeadmPki: secret(
    z.string().default(""),
    "Rebuilding kubeadm from the bucket: base64 of a tar.gz of the bundle's etc/kubernetes/pki (its CAs and service-account key), put on the first server before kubeadm init, which then uses them (set it with --secret).",
  ),
};

/** The files a kubeadm PKI restore holds (paths in its tar), all required: kubeadm's CAs and service-account key pair. */
export const RESTORED_PKI_FILES = [
  "ca.crt",
  "ca.key",
  "sa.key",
  "sa.pub",
  "front-proxy-ca.crt",
  "front-proxy-ca.key",
  "etcd/ca.crt",
  "etcd/ca.key",
].map((f) => `etc/kubernetes/pki/${f}`);

/** The names in a tar archive (ustar headers: name at 0, size in octal at 124, prefix at 345). */
export function tarNames(tar: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, to: number) => header.subarray(from, to).toString("utf8").replace(/\0.*$/s, "");
    const prefix = field(345, 500);
    names.push((prefix ? `${prefix}/` : "") + field(0, 100));
    at += 512 + Math.ceil(parseInt(field(124, 136).trim() || "0", 8) / 512) * 512;
  }
  return names;
}

/** What is wrong with restoreKubeadmPki, or undefined: base64 of a tar.gz of exactly RESTORED_PKI_FILES (and their directories). */
export function restoredPkiProblem(value: string): string | undefined {
  let names: string[];
  try {
    names = tarNames(gunzipSync(Buffer.from(value, "base64")));
  } catch {
    return "is not base64 of a tar.gz";
  }
  const files = names.filter((n) => !n.endsWith("/")).map((n) => n.replace(/^\.\//, ""));
  const missing = RESTORED_PKI_FILES.filter((f) => !files.includes(f));
  const extra = files.filter((f) => !RESTORED_PKI_FILES.includes(f));
  if (missing.length > 0) return `lacks ${missing.join(", ")}`;
  if (extra.length > 0) return `holds ${extra.join(", ")}, which is not kubeadm's CA or service-account key`;
  return undefined;
}

/**
 * What is wrong with a recovery certificate, or undefined: one PEM certificate that Node's
 * X509Certificate (OpenSSL) parses, and no private key pasted with it (which would put the one
 * thing that opens the bundles on every server).
 */
export function recoveryCertificateProblem(pem: string): string | undefined {
  if (/PRIVATE KEY-----/.test(pem))
    return "holds a private key: give only the certificate (recovery.crt); keep the key (recovery.key) off the cluster";
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----/g) ?? [];
  if (blocks.length !== 1) return `must be one PEM certificate (-----BEGIN CERTIFICATE-----), found ${blocks.length}`;
  try {
    new X509Certificate(pem);
  } catch {
    return "is not a certificate OpenSSL can read";
  }
  return undefined;
}

export type BackupValues = Values<typeof BACKUP_KEYS>;

export function checkBackups(c: BackupValues & { distribution: DistributionName }, bad: Bad): void {
  checkRestore(c, bad);
  if (!c.etcdBackupBucket) return;
  for (const key of ["etcdBackupEndpoint", "etcdBackupRegion"] as const) {
    if (!c[key]) bad(key, c[key], "must be set with etcdBackupBucket");
  }
  for (const key of ["etcdBackupAccessKey", "etcdBackupSecretKey"] as const) {
    if (!c[key]) bad(key, "(not set)", "must be set (with --secret) with etcdBackupBucket");
  }
  const make =
    "make one with: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -noenc -keyout recovery.key -out recovery.crt -days 36500 -subj /CN=oci-k8s-recovery; then: pulumi config set etcdBackupRecoveryCertificate < recovery.crt";
  if (!c.etcdBackupRecoveryCertificate)
    bad(
      "etcdBackupRecoveryCertificate",
      "(not set)",
      `must be set with etcdBackupBucket (the recovery bundle is encrypted to it); ${make}`,
    );
  else {
    const problem = recoveryCertificateProblem(c.etcdBackupRecoveryCertificate);
    // The value is never echoed: a pasted private key must not reach the error.
    if (problem) bad("etcdBackupRecoveryCertificate", "(the given PEM)", `${problem}; ${make}`);
  }
}

/** The restore keys: each only on the distribution it belongs to, in its form; a value is never shown. */
function checkRestore(c: BackupValues & { distribution: DistributionName }, bad: Bad): void {
  const rancher = c.distribution === "k3s" || c.distribution === "rke2";
  if (c.restoreClusterToken) {
    if (!rancher) bad("restoreClusterToken", SECRET_NOT_SHOWN, `is for k3s and rke2 only (distribution is ${c.distribution})`);
    else if (!/^[\x21-\x7e]{16,}$/.test(c.restoreClusterToken.trim()))
      bad(
        "restoreClusterToken",
        SECRET_NOT_SHOWN,
        "must be the token file's content: at least 16 printable characters, no spaces",
      );
  }
  for (const key of ["restoreEncryptionKey", "restoreKubeadmPki"] as const) {
    if (c[key] && c.distribution !== "kubeadm")
      bad(key, SECRET_NOT_SHOWN, `is for kubeadm only (distribution is ${c.distribution})`);
  }
  if (c.distribution !== "kubeadm") return;
  if (c.restoreEncryptionKey && Buffer.from(c.restoreEncryptionKey.trim(), "base64").length !== 32)
    bad(
      "restoreEncryptionKey",
      SECRET_NOT_SHOWN,
      "must be base64 of 32 bytes (the secret: of the bundle's encryption-config.yaml)",
    );
  const pki = c.restoreKubeadmPki && restoredPkiProblem(c.restoreKubeadmPki.trim());
  if (pki)
    bad(
      "restoreKubeadmPki",
      SECRET_NOT_SHOWN,
      `${pki}; make it with: tar -czf - -C <bundle dir> etc/kubernetes/pki | base64 -w0`,
    );
}

/** Scheduled etcd snapshots (every distribution), copied to the bucket when one is named. */
export function resolveBackups(c: BackupValues, clusterName: string): { etcdBackup: EtcdBackup; restored: Restored } {
  const given = (v: string) => (v.trim() ? v.trim() : undefined);
  return {
    restored: {
      clusterToken: given(c.restoreClusterToken),
      encryptionKey: given(c.restoreEncryptionKey),
      kubeadmPki: given(c.restoreKubeadmPki),
    },
    etcdBackup: {
      schedule: c.etcdBackupSchedule,
      retention: c.etcdBackupRetention,
      s3: c.etcdBackupBucket
        ? {
            endpoint: c.etcdBackupEndpoint,
            region: c.etcdBackupRegion,
            bucket: c.etcdBackupBucket,
            folder: clusterName,
            accessKey: c.etcdBackupAccessKey,
            secretKey: c.etcdBackupSecretKey,
            // OCI Object Storage's S3 endpoint serves buckets by path, not by host name.
            bucketLookup: "path" as const,
            recoveryCertificate: c.etcdBackupRecoveryCertificate,
          }
        : undefined,
    },
  };
}
