/** The example consumer under the mock runtime, fed the outputs of a mock run of this project's dev stack. */
import { strict as assert } from "assert";
import * as path from "path";
import { named, RunResult, runOk, stackConfig } from "../../../scripts/mock-program";
import { loadLikePulumi } from "../../../test/tools";

const CLUSTER = "organization/oci-k8s/dev";

describe("example: loaded the way Pulumi's Node.js runtime loads it", function () {
  this.timeout(120_000);
  it("compiles with its own tsconfig.json under TypeScript 6, types checked, and starts running", () => {
    const r = loadLikePulumi(path.join(__dirname, ".."));
    assert.doesNotMatch(r.stderr, /TSError|error TS\d+/, r.stderr);
    // Outside an engine it gets as far as reading its config: the code compiled and ran.
    assert.match(r.stderr, /Missing required configuration variable '[^']*:clusterStack'/);
  });
});

describe("example: web app on the cluster's outputs", () => {
  let r: RunResult;
  let kubeconfig: string;
  let dev: RunResult;
  before(async () => {
    // The consumer reads exactly what the dev stack exports.
    dev = await runOk("dev", stackConfig("dev"));
    kubeconfig = dev.outputs.kubeconfig as string;
    r = await runOk(
      "example",
      { clusterStack: CLUSTER },
      {
        program: path.join(__dirname, "..", "index.ts"),
        project: "oci-k8s-web-app",
        stackOutputs: { [CLUSTER]: dev.outputs },
        stackSecretOutputs: { [CLUSTER]: dev.secretOutputs },
      },
    );
  });

  it("reads the cluster stack through a StackReference and builds its provider from the secret kubeconfig", () => {
    const ref = named(r, "pulumi:pulumi:StackReference", CLUSTER);
    assert.equal(ref.inputs.name, CLUSTER);
    const provider = named(r, "pulumi:providers:kubernetes", "cluster");
    assert.equal(provider.inputs.kubeconfig, kubeconfig);
    assert.ok(provider.secretInputs.includes("kubeconfig"), "the kubeconfig lost its secrecy");
    assert.equal(provider.inputs.clusterIdentifier, "oci-k8s-dev");
    for (const o of r.resources.filter((x) => x.type.startsWith("kubernetes:")))
      assert.ok(o.provider.startsWith(`${provider.urn}::`));
  });

  it("serves hello.<cluster domain> over TLS from the production issuer", () => {
    const ingress = named(r, "kubernetes:networking.k8s.io/v1:Ingress", "hello").inputs;
    assert.equal(ingress.metadata.annotations["cert-manager.io/cluster-issuer"], "letsencrypt-production");
    assert.deepEqual(ingress.spec.tls, [{ hosts: ["hello.dev.example.com"], secretName: "hello-tls" }]);
    assert.equal(ingress.spec.rules[0].host, "hello.dev.example.com");
    assert.equal(r.outputs.url, "https://hello.dev.example.com");
  });

  it("passes on the cluster's urls output (contract version 3) as the stack exports it", () => {
    assert.deepEqual(r.outputs.clusterUrls, dev.outputs.urls);
    assert.equal((r.outputs.clusterUrls as Record<string, string>).argocd, "https://argocd.dev.example.com");
  });

  it("runs a pinned image as non-root with requests and limits", () => {
    const pod = named(r, "kubernetes:apps/v1:Deployment", "hello").inputs.spec.template.spec;
    const c = pod.containers[0];
    assert.match(c.image, /:v\d+\.\d+\.\d+$/);
    assert.equal(c.securityContext.runAsNonRoot, true);
    assert.ok(c.resources.requests.memory && c.resources.limits.memory);
    assert.equal(pod.tolerations, undefined, "stays off the micro nodes");
  });
});
