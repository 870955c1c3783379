import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/**
 * A command run on a node over SSH. pulumi-command offers a command's previous stdout to the next
 * run as an SSH environment variable unless told not to (`addPreviousOutputInEnv` defaults to
 * true); our stdouts include the kubeconfig and join material, so no command offers it.
 */
export function remoteCommand(
  name: string,
  args: command.remote.CommandArgs,
  opts?: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(name, { ...args, addPreviousOutputInEnv: false }, opts);
}
