/**
 * Every remote command, run with exactly what the program registers: its command line, through
 * `sh -c` as sshd runs it, and its stdin (nothing when the program sets none, as pulumi-command
 * then sends none; a `delete` gets the same stdin as `create`, from the state). A script that
 * requires a setting its command does not send dies with "setting X is missing" on a real node;
 * here it dies the same way, against permissive fakes of the node's tools (sudo runs its
 * arguments as they are).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { MINIMAL_CONFIG, MOCK_JOIN, ofType, runOk } from "../../scripts/mock-program";
import { fakeBin, run, tempDir } from "../tools";
import { shellWords } from "./bootstrap-scripts.fixtures";

const COMMAND = "command:remote:Command";

/** Tools the scripts call on a node, faked to succeed; kubeadm prints join material like the real one. */
function permissiveNode(): { bin: string; root: string } {
  const dir = tempDir("stdin");
  const bin = path.join(dir, "bin");
  const root = path.join(dir, "root");
  fs.mkdirSync(bin);
  fs.mkdirSync(root);
  const tools = ["k3s", "rke2", "kubectl", "systemctl", "curl", "apt-get", "apt-mark", "dpkg", "cloud-init", "crictl"];
  for (const tool of [...tools, "etcdctl", "gpg", "containerd", "logger", "journalctl", "sleep", "fuser", "flock"]) {
    fakeBin(bin, tool);
  }
  fakeBin(bin, "sudo", 'exec "$@"');
  fakeBin(
    bin,
    "kubeadm",
    `case "$*" in
  *"token create"*) echo "kubeadm join 10.0.0.2:6443 --token ${MOCK_JOIN.JOIN_TOKEN} --discovery-token-ca-cert-hash ${MOCK_JOIN.CA_CERT_HASH}" ;;
  *upload-certs*) echo "${MOCK_JOIN.CERTIFICATE_KEY}" ;;
esac`,
  );
  return { bin, root };
}

const topologies: Record<string, unknown[]> = {
  "one server": [
    { name: "server-1", role: "server", ocpus: 1 },
    { name: "agent-1", role: "agent", ocpus: 1 },
  ],
  "three servers": [
    { name: "server-1", role: "server", ocpus: 2, memoryGb: 8 },
    { name: "server-2", role: "server", ocpus: 1, memoryGb: 8 },
    { name: "server-3", role: "server", ocpus: 1, memoryGb: 8 },
    { name: "micro-1", role: "agent", shape: "VM.Standard.E2.1.Micro" },
  ],
};

describe("every remote command with exactly its registered stdin", function () {
  this.timeout(120_000);

  it("splits command lines the way bash does", () => {
    assert.deepEqual(shellWords(`sudo bash -c 'echo '\\''hi'\\''' kubeadm join-material server`), [
      "sudo",
      "bash",
      "-c",
      "echo 'hi'",
      "kubeadm",
      "join-material",
      "server",
    ]);
  });

  for (const distribution of ["k3s", "rke2", "kubeadm"]) {
    for (const [topology, nodes] of Object.entries(topologies)) {
      it(`${distribution}, ${topology}: no script misses a setting`, async () => {
        const tier = nodes.length > 2 ? { tier: "payg", acceptCharges: true, budgetAmount: 50 } : {};
        const r = await runOk("stdin", { ...MINIMAL_CONFIG, ...tier, distribution, nodes });
        const node = permissiveNode();
        let ran = 0;
        const missing: string[] = [];
        for (const c of ofType(r, COMMAND)) {
          for (const phase of ["create", "update", "delete"] as const) {
            const line = c.inputs[phase];
            if (typeof line !== "string" || !line.startsWith("sudo bash -c ")) continue;
            const [, , , , ...args] = shellWords(line);
            const result = run("sh", ["-c", line], {
              input: typeof c.inputs.stdin === "string" ? c.inputs.stdin : "",
              env: { PATH: `${node.bin}:${process.env.PATH}`, OCI_K8S_ROOT: node.root, OCI_K8S_RETRY_DELAY: "0" },
            });
            ran++;
            const lack = /setting (\w+) is missing/.exec(result.stderr);
            if (lack) missing.push(`${c.name} (${phase}: ${args.join(" ")}): ${lack[0]}`);
            if (args[0] === "kubeadm" && args[1] === "join-material") {
              assert.equal(result.status, 0, `${c.name}: ${result.stderr}`);
              assert.match(result.stdout, /^JOIN_TOKEN=/m);
            }
          }
        }
        assert.ok(ran >= 10, `only ${ran} scripts ran`);
        assert.deepEqual(missing, []);
      });
    }
  }
});
