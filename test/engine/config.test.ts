/**
 * The CLI's own config validation, run by the real Pulumi CLI (tools/engine/bin/pulumi), which the mock
 * runtime of every other suite never reaches. The CLI validates the stack's config against Pulumi.yaml's
 * `config:` schema before it starts the program: a declared key's value must have its type, a key
 * without a default must be set, and a `secret: true` key must be encrypted (so a secret key with a
 * plain default, or an optional secret, cannot be declared at all: Pulumi.yaml declares neither).
 *
 * What the preview reaches after validation: the Node.js language host is not part of tools/engine yet
 * (the module proxy here does not serve github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3;
 * docs/engine.md), and plugins are never downloaded, so a stack whose config is valid stops at loading
 * the `nodejs` language plugin. That failure comes after config validation, so it proves validation
 * passed; the test asserts exactly that and that no config error was reported.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { engineHome, projectStack, ROOT } from "./engine";

/** Each of the CLI's stack-config refusals (validateStackConfigValue and the missing-values check). */
const CONFIG_ERROR = /must be encrypted as it's secret|is missing configuration values?|must be of type/;
const NO_LANGUAGE_HOST = /language plugin|pulumi-language-nodejs/i;

/** Runs `pulumi preview` of a copy of the project with the given stack file; returns the CLI's error. */
async function previewError(stackName: string, stackFile: string): Promise<string> {
  const home = engineHome("config");
  try {
    const stack = await projectStack(home, stackName, stackFile);
    try {
      await stack.preview();
    } catch (err) {
      return String(err instanceof Error ? err.message : err);
    }
    throw new Error("preview succeeded although no language host is installed");
  } finally {
    fs.rmSync(home.dir, { recursive: true, force: true });
  }
}

describe("engine: the CLI's config validation", function () {
  this.timeout(120_000);

  for (const stackName of ["dev", "prd"]) {
    const file = `Pulumi.${stackName}.yaml`;
    it(`accepts ${file} as it is`, async () => {
      const error = await previewError(stackName, fs.readFileSync(path.join(ROOT, file), "utf8"));
      assert.doesNotMatch(error, CONFIG_ERROR, `config validation refused ${file}:\n${error}`);
      assert.match(error, NO_LANGUAGE_HOST, `preview stopped somewhere else than the language host:\n${error}`);
    });
  }

  it("validates for real: a value of the wrong type for a declared key is refused, naming it", async () => {
    // Optional secrets are not declared in Pulumi.yaml (the CLI cannot make a secret optional); the
    // program refuses them in plain text itself (test/config.test.ts). What the CLI checks, it checks.
    const dev = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
    const error = await previewError("dev", `${dev}  oci-k8s:natGateway: maybe\n`);
    assert.match(error, /natGateway/);
    assert.match(error, /must be of type 'boolean'/);
  });
});
