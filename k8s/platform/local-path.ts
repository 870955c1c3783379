import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Resources } from "./resources";

/** rancher/local-path-provisioner has no published Helm repository, so the program creates its objects. */
export const LOCAL_PATH_IMAGE = "docker.io/rancher/local-path-provisioner:v0.0.37";
/** Runs the create/delete scripts on the node that holds a volume. */
export const LOCAL_PATH_HELPER_IMAGE = "docker.io/library/busybox:1.37.0";
export const LOCAL_PATH_CLASS = "local-path";

export interface LocalPathStorageArgs {
  readonly namespace: string;
  /** Directory on each node where volumes are created (on the data volume where there is one). */
  readonly path: string;
  readonly resources: Resources;
  /** Make it the cluster's default StorageClass. */
  readonly isDefault: boolean;
  /** Labels of its namespace (PodSecurity: the helper pods use hostPath). */
  readonly namespaceLabels?: Record<string, string>;
}

/** Node-local persistent volumes, provisioned by rancher/local-path-provisioner. */
export class LocalPathStorage extends pulumi.ComponentResource {
  public readonly storageClassName: string = LOCAL_PATH_CLASS;

  constructor(name: string, args: LocalPathStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("oci-k8s:k8s:LocalPathStorage", name, {}, opts);
    const parent = { parent: this };
    const ns = args.namespace;
    const app = "local-path-provisioner";
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: ns, labels: args.namespaceLabels } },
      parent,
    );
    const inNs = { parent: this, dependsOn: [namespace] };
    const account = new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata: { name: app, namespace: ns } }, inNs);

    this.permissions(name, ns, account, inNs);
    this.provisioner(name, args, account, inNs);

    new k8s.storage.v1.StorageClass(
      `${name}-class`,
      {
        metadata: {
          name: LOCAL_PATH_CLASS,
          annotations: { "storageclass.kubernetes.io/is-default-class": String(args.isDefault) },
        },
        provisioner: "rancher.io/local-path",
        // Bind where the pod is scheduled, so the volume lives on that pod's node.
        volumeBindingMode: "WaitForFirstConsumer",
        reclaimPolicy: "Delete",
      },
      parent,
    );
    this.registerOutputs({});
  }

  /** The provisioner's RBAC: pods in its own namespace (the helper pods), volumes and what it reads cluster-wide. */
  private permissions(name: string, ns: string, account: k8s.core.v1.ServiceAccount, inNs: pulumi.CustomResourceOptions): void {
    const parent = { parent: this };
    const app = "local-path-provisioner";
    const subject = [{ kind: "ServiceAccount", name: app, namespace: ns }];
    // Helper pods that create and delete volume directories run in its own namespace.
    const role = new k8s.rbac.v1.Role(
      `${name}-role`,
      {
        metadata: { name: app, namespace: ns },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] }],
      },
      inNs,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-role-binding`,
      {
        metadata: { name: app, namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: app },
        subjects: subject,
      },
      { parent: this, dependsOn: [role, account] },
    );
    const clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster-role`,
      {
        metadata: { name: app },
        rules: [
          {
            apiGroups: [""],
            resources: ["nodes", "persistentvolumeclaims", "configmaps", "pods", "pods/log"],
            verbs: ["get", "list", "watch"],
          },
          {
            apiGroups: [""],
            resources: ["persistentvolumes"],
            verbs: ["get", "list", "watch", "create", "patch", "update", "delete"],
          },
          { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
          { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get", "list", "watch"] },
        ],
      },
      parent,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster-role-binding`,
      {
        metadata: { name: app },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: app },
        subjects: subject,
      },
      { parent: this, dependsOn: [clusterRole, account] },
    );
  }

  /** Its configuration (the data path, the helper pod) and the provisioner itself. */
  private provisioner(
    name: string,
    args: LocalPathStorageArgs,
    account: k8s.core.v1.ServiceAccount,
    inNs: pulumi.CustomResourceOptions,
  ): void {
    const ns = args.namespace;
    const app = "local-path-provisioner";
    const helperPod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "helper-pod" },
      spec: {
        priorityClassName: "system-node-critical",
        tolerations: [{ key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" }],
        containers: [{ name: "helper-pod", image: LOCAL_PATH_HELPER_IMAGE, imagePullPolicy: "IfNotPresent" }],
      },
    };
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: "local-path-config", namespace: ns },
        data: {
          "config.json": JSON.stringify(
            { nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [args.path] }] },
            null,
            2,
          ),
          setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
          teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
          "helperPod.yaml": JSON.stringify(helperPod, null, 2),
        },
      },
      inNs,
    );

    const probe = (path: string) => ({ httpGet: { path, port: "health" }, periodSeconds: 10 });
    new k8s.apps.v1.Deployment(
      `${name}-provisioner`,
      {
        metadata: { name: app, namespace: ns },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app } },
          template: {
            metadata: { labels: { app } },
            spec: {
              serviceAccountName: app,
              containers: [
                {
                  name: app,
                  image: LOCAL_PATH_IMAGE,
                  command: ["local-path-provisioner", "start", "--config", "/etc/config/config.json"],
                  ports: [{ name: "health", containerPort: 8080 }],
                  env: [
                    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                    { name: "CONFIG_MOUNT_PATH", value: "/etc/config/" },
                    { name: "HEALTH_PORT", value: "8080" },
                  ],
                  livenessProbe: probe("/health"),
                  readinessProbe: probe("/ready"),
                  resources: args.resources,
                  volumeMounts: [{ name: "config", mountPath: "/etc/config/" }],
                },
              ],
              volumes: [{ name: "config", configMap: { name: "local-path-config" } }],
            },
          },
        },
      },
      { parent: this, dependsOn: [config, account] },
    );
  }
}
