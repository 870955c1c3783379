/**
 * The real Pulumi CLI built by tools/engine/build.sh, driven through the Automation API: a file backend
 * and a passphrase secrets provider in a temporary folder, no update check, no plugin downloads.
 */
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { tempDir } from "../tools";

export const ROOT = path.resolve(__dirname, "../..");
export const ENGINE_ROOT = path.join(ROOT, "tools/engine");
export const PULUMI_VERSION = "3.248.0";

/** The CLI of tools/engine/bin; a missing build fails the suite and names the command that makes it. */
export async function pulumiCommand(): Promise<PulumiCommand> {
  const bin = path.join(ENGINE_ROOT, "bin/pulumi");
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing; run tools/engine/build.sh`);
  const cmd = await PulumiCommand.get({ root: ENGINE_ROOT });
  // The CLI's version is set at link time (-X .../version.Version); anything else is another build.
  if (cmd.version?.toString() !== PULUMI_VERSION) {
    throw new Error(`${bin} reports ${cmd.version?.toString() ?? "no version"}, expected ${PULUMI_VERSION}`);
  }
  return cmd;
}

export interface EngineHome {
  readonly dir: string;
  readonly env: Record<string, string>;
}

/** A fresh PULUMI_HOME and file backend: nothing of the machine's own Pulumi setup is read or written. */
export function engineHome(prefix: string): EngineHome {
  const dir = tempDir(`engine-${prefix}`);
  fs.mkdirSync(path.join(dir, "home"));
  fs.mkdirSync(path.join(dir, "state"));
  return {
    dir,
    env: {
      PULUMI_HOME: path.join(dir, "home"),
      PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "test-engine-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      // Plugins come only from tools/engine/bin (pulumi plugin install --file) or not at all.
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "false",
    },
  };
}

/** A stack of a copy of the project's Pulumi.yaml and the given stack file, in the home's folder. */
export async function projectStack(home: EngineHome, stackName: string, stackFile: string): Promise<Stack> {
  const work = path.join(home.dir, "project");
  fs.mkdirSync(work);
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(work, "Pulumi.yaml"));
  fs.writeFileSync(path.join(work, `Pulumi.${stackName}.yaml`), stackFile);
  const ws = await LocalWorkspace.create({
    workDir: work,
    pulumiCommand: await pulumiCommand(),
    envVars: home.env,
    secretsProvider: "passphrase",
  });
  return Stack.create(stackName, ws);
}
