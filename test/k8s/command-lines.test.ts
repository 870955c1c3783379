/**
 * What a user reads when a remote step fails. pulumi-command v1.2.1 builds its error as
 * `fmt.Errorf("%w: running %q:\n%s", err, cmd, stdout+stderr)`
 * (provider/pkg/provider/remote/commandOutputs.go): the whole command line, quoted, before the
 * script's own output. With the script on the command line a failed install's error was 7,076
 * characters, its FAILED:/try: lines from character 6,808 on. The scripts now travel on stdin,
 * behind a short loader: every command line of every shipped stack and example stays under 1,000
 * characters, and a failing script, run exactly as registered, leads with its reason.
 */
import { strict as assert } from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
  decodeSettings,
  libScriptCommand,
  libScriptStdin,
  scriptCommand,
  scriptStdin,
  settingsPart,
} from "../../k8s/bootstrap/scripts";
import { named, ofType, ROOT, RunResult, runOk, stackConfigFrom } from "../../scripts/mock-program";
import { fakeBin, run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";

const COMMAND = "command:remote:Command";
const LIMIT = 1_000;

/** Every stack file the project ships: the two stacks, the shared pair and the existing-hosts examples. */
async function shippedStacks(): Promise<Map<string, RunResult>> {
  const out = new Map<string, RunResult>();
  for (const stack of ["dev", "prd"])
    out.set(stack, await runOk(stack, stackConfigFrom(path.join(ROOT, `Pulumi.${stack}.yaml`))));
  const shared = (name: string) => stackConfigFrom(path.join(ROOT, "examples", "stacks", `Pulumi.${name}.yaml`));
  const prd = await runOk("prd-shared", shared("prd-shared"));
  out.set("examples/stacks prd-shared", prd);
  out.set(
    "examples/stacks dev-shared",
    await runOk("dev-shared", shared("dev-shared"), {
      stackOutputs: { "organization/oci-k8s/prd-shared": { freeTierUsage: prd.outputs.freeTierUsage } },
    }),
  );
  const hostsDir = path.join(ROOT, "examples", "hosts");
  for (const file of fs
    .readdirSync(hostsDir)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .sort()) {
    const name = file.replace(/^Pulumi\.|\.yaml$/g, "");
    out.set(`examples/hosts ${name}`, await runOk(name, stackConfigFrom(path.join(hostsDir, file))));
  }
  return out;
}

/** Go's %q of an ASCII-or-UTF-8 string, as close as matters here (JSON's escapes are Go's for these). */
const goQuote = (s: string) => JSON.stringify(s);

/** The error pulumi-command v1.2.1 returns for a command that exited non-zero. */
const commandError = (cmd: string, status: number, output: string) =>
  `Process exited with status ${status}: running ${goQuote(cmd)}:\n${output}`;

/**
 * A node whose tools succeed except the download (curl times out, as with egress dropped) and apt.
 * Its `ip` lists one interface, eth1, holding `privateIp` (the install looks for it first).
 */
function offlineNode(privateIp = "10.0.0.1"): { env: Record<string, string> } {
  const dir = tempDir("cmdline");
  const bin = path.join(dir, "bin");
  const root = path.join(dir, "root");
  fs.mkdirSync(bin);
  fs.mkdirSync(root);
  for (const tool of ["systemctl", "gpg", "containerd", "apt-mark", "kubectl", "kubeadm", "k3s", "rke2", "logger"])
    fakeBin(bin, tool);
  fakeBin(bin, "sudo", 'exec "$@"');
  fakeBin(bin, "ip", `echo "3: eth1    inet ${privateIp}/24 brd 10.0.0.255 scope global eth1"`);
  fakeBin(bin, "curl", 'echo "curl: (28) Connection timed out after 10001 milliseconds" >&2; exit 28');
  fakeBin(bin, "apt-get", 'echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease" >&2; exit 100');
  return {
    env: {
      PATH: `${bin}:${systemTools(SCRIPT_TOOLS)}`,
      OCI_K8S_ROOT: root,
      OCI_K8S_RETRY_DELAY: "0",
    },
  };
}

describe("command lines: short, so a failure's reason is what the user reads", function () {
  this.timeout(300_000);
  let stacks: Map<string, RunResult>;
  before(async () => {
    stacks = await shippedStacks();
  });

  it(`no registered command line of a shipped stack or example reaches ${LIMIT} characters`, () => {
    assert.ok(stacks.size >= 7, `only ${stacks.size} stacks`);
    const long: string[] = [];
    let counted = 0;
    for (const [stack, r] of stacks) {
      for (const c of ofType(r, COMMAND)) {
        for (const phase of ["create", "update", "delete"] as const) {
          const line = c.inputs[phase];
          if (typeof line !== "string") continue;
          counted++;
          if (line.length >= LIMIT) long.push(`${stack} ${c.name} ${phase}: ${line.length} characters`);
        }
      }
    }
    assert.ok(counted > 100, `only ${counted} command lines`);
    assert.deepEqual(long, []);
  });

  for (const [stack, command, reason] of [
    ["dev", "server-1-install", /FAILED: could not download the k3s v\S+ installer/],
    ["examples/hosts cloud-rke2", "server-1-install", /FAILED: could not download the rke2 v\S+ installer/],
    ["examples/hosts vps-kubeadm", "vps-1-install", /FAILED: apt-get update failed/],
  ] as const) {
    it(`${stack}: ${command} run exactly as registered fails with its reason at the head of pulumi-command's error`, () => {
      const c = named(stacks.get(stack)!, COMMAND, command);
      const node = offlineNode(decodeSettings(String(c.inputs.stdin ?? "")).NODE_IP);
      // As sshd runs it: the registered line through sh -c, with the registered stdin.
      const r = run("sh", ["-c", c.inputs.create], { input: String(c.inputs.stdin ?? ""), env: node.env });
      assert.notEqual(r.status, 0, r.stderr);
      const error = commandError(c.inputs.create, r.status, r.stdout + r.stderr);
      const at = error.search(reason);
      assert.ok(at >= 0, `no ${reason} in:\n${error}`);
      // Before the script's own output (its retry lines, then its reason) only the quoted loader.
      const head = error.length - (r.stdout + r.stderr).length;
      assert.ok(head < LIMIT + 100, `the script's output begins at character ${head} of ${error.length}`);
      assert.ok(at > head, `the reason at ${at} is not the script's own`);
      assert.match(error.slice(at), /\n\[oci-k8s\] try: /);
      // Said once, by the script: not also inside a quoted copy of the script.
      assert.equal(error.match(new RegExp(reason.source, "g"))!.length, 1, error);
    });
  }

  it("every loader command's registered stdin begins with the script its loader pins (create and delete)", () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [stack, plan] of stacks) {
      for (const c of ofType(plan, COMMAND)) {
        const pinned = /sha256sum\)" && \[ "\$\{h%% \*\}" = ([0-9a-f]{64}) \]/.exec(String(c.inputs.create ?? ""));
        if (!pinned) continue;
        checked++;
        const stdin = String(c.inputs.stdin ?? "");
        const n = /^(\d+)\n/.exec(stdin);
        const script = n ? Buffer.from(stdin.slice(n[0].length), "utf8").subarray(0, Number(n[1])) : Buffer.alloc(0);
        if (!n || createHash("sha256").update(script).digest("hex") !== pinned[1]) wrong.push(`${stack} ${c.name}`);
      }
    }
    assert.ok(checked > 100, `only ${checked} loader commands`);
    assert.deepEqual(wrong, [], "stdin does not begin with the loader's script: the command fails on every host");
  });

  it("the loader refuses a stdin that does not begin with its script, saying so", () => {
    const node = offlineNode();
    const line = scriptCommand("wait-ready");
    for (const input of ["", "KUBECTL=a3ViZWN0bA==\n", scriptStdin("kubeconfig"), `5\nexit 0\n`]) {
      const r = run("sh", ["-c", line], { input, env: node.env });
      assert.equal(r.status, 1, input);
      assert.match(r.stderr, /^\[oci-k8s\] FAILED: wait-ready: stdin does not begin with its script$/m);
    }
  });

  it("the script runs with its name and arguments, and reads exactly the settings that follow it", () => {
    const node = offlineNode();
    const body = `read_settings; require_settings VALUE; printf '%s|%s|%s' "$0" "$*" "$VALUE"`;
    // A value with newlines, quotes and non-ASCII text survives; the script itself holds non-ASCII too.
    const value = 'line one\nit\'s "two" — ünïcödé\n';
    const settings = `VALUE=${Buffer.from(value).toString("base64")}\n`;
    const r = run("sh", ["-c", libScriptCommand("probe", `# naïve — comment\n${body}`, "a b", "c")], {
      input: libScriptStdin(`# naïve — comment\n${body}`, settings),
      env: node.env,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `probe|a b c|${value.replace(/\n$/, "")}`);
    assert.equal(settingsPart(libScriptStdin(body, settings)), `\n${settings}`);
  });
});
