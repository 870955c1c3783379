/** Backups: when etcd snapshots are taken, how many are kept, and the bucket they are copied to. */
import { z } from "zod";
import { EtcdBackup } from "../k8s/bootstrap/distributions";
import { Bad, secret, str, Values } from "./keys";

export const BACKUP_KEYS = {
  etcdBackupSchedule: str(
    z
      .string()
      .regex(/^(\S+[ \t]+){4}\S+$/, "must be a 5-field cron schedule like '0 */6 * * *'")
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
};

export type BackupValues = Values<typeof BACKUP_KEYS>;

export function checkBackups(c: BackupValues, bad: Bad): void {
  if (!c.etcdBackupBucket) return;
  for (const key of ["etcdBackupEndpoint", "etcdBackupRegion"] as const) {
    if (!c[key]) bad(key, c[key], "must be set with etcdBackupBucket");
  }
  for (const key of ["etcdBackupAccessKey", "etcdBackupSecretKey"] as const) {
    if (!c[key]) bad(key, "(not set)", "must be set (with --secret) with etcdBackupBucket");
  }
}

/** Scheduled etcd snapshots (every distribution), copied to the bucket when one is named. */
export function resolveBackups(c: BackupValues, clusterName: string): { etcdBackup: EtcdBackup } {
  return {
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
          }
        : undefined,
    },
  };
}
