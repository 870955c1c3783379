/** Bad backup and restore configuration: the bucket, the recovery certificate, the restore keys. */
import { MINIMAL_CONFIG } from "../../scripts/mock-program";
import type { BadCase } from "./config.fixtures";

const base = MINIMAL_CONFIG;
/** A complete bucket, but for the recovery certificate. */
const BUCKET = {
  etcdBackupBucket: "etcd-backups",
  etcdBackupEndpoint: "x.example.com",
  etcdBackupRegion: "r",
  etcdBackupAccessKey: "a",
  etcdBackupSecretKey: "s",
};

export const BACKUP_BAD: BadCase[] = [
  {
    why: "an etcd bucket without its endpoint",
    config: {
      ...base,
      etcdBackupBucket: "etcd-backups",
      etcdBackupAccessKey: "a",
      etcdBackupSecretKey: "s",
      etcdBackupRegion: "r",
    },
    key: "oci-k8s:etcdBackupEndpoint",
    says: /must be set with etcdBackupBucket/,
  },
  {
    why: "an etcd bucket without its keys",
    config: { ...base, etcdBackupBucket: "etcd-backups", etcdBackupEndpoint: "x.example.com", etcdBackupRegion: "r" },
    key: "oci-k8s:etcdBackupAccessKey",
    says: /must be set \(with --secret\)/,
  },
  {
    why: "an etcd bucket without the recovery certificate",
    config: { ...base, ...BUCKET },
    key: "oci-k8s:etcdBackupRecoveryCertificate",
    says: /must be set with etcdBackupBucket \(the recovery bundle is encrypted to it\); make one with: openssl req -x509/,
  },
  {
    why: "a recovery certificate with its private key pasted in (never echoed)",
    config: {
      ...base,
      ...BUCKET,
      etcdBackupRecoveryCertificate: "-----BEGIN PRIVATE KEY-----\nTheOperatorsKeyMustNotBeEchoed\n-----END PRIVATE KEY-----",
    },
    key: "oci-k8s:etcdBackupRecoveryCertificate",
    says: /^(?![\s\S]*TheOperatorsKeyMustNotBeEchoed)[\s\S]*holds a private key: give only the certificate/,
  },
  {
    why: "a recovery certificate that is no certificate",
    config: {
      ...base,
      ...BUCKET,
      etcdBackupRecoveryCertificate: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----",
    },
    key: "oci-k8s:etcdBackupRecoveryCertificate",
    says: /is not a certificate OpenSSL can read/,
  },
  {
    why: "a restored cluster token on kubeadm (never shown)",
    config: { ...base, distribution: "kubeadm", restoreClusterToken: "TheOldTokenMustNotBeShown0123" },
    key: "oci-k8s:restoreClusterToken",
    says: /^(?![\s\S]*TheOldTokenMustNotBeShown)[\s\S]*is for k3s and rke2 only \(distribution is kubeadm\)/,
  },
  {
    why: "a restored encryption key that is not 32 bytes",
    config: { ...base, distribution: "kubeadm", restoreEncryptionKey: "c2hvcnQ=" },
    key: "oci-k8s:restoreEncryptionKey",
    says: /\[secret, not shown\] must be base64 of 32 bytes/,
  },
  {
    why: "a restored kubeadm PKI that is no tar.gz",
    config: { ...base, distribution: "kubeadm", restoreKubeadmPki: "bm90IGEgdGFyYmFsbA==" },
    key: "oci-k8s:restoreKubeadmPki",
    says: /is not base64 of a tar\.gz; make it with: tar -czf - -C <bundle dir> etc\/kubernetes\/pki \| base64 -w0/,
  },
  {
    why: "a snapshot schedule that is not cron",
    config: { ...base, etcdBackupSchedule: "hourly" },
    key: "oci-k8s:etcdBackupSchedule",
    says: /"hourly" must be a 5-field cron schedule/,
  },
];
