/**
 * The commands a hosts stack registers, run over a real SSH session: OpenSSH's sshd in a network
 * namespace plays the host (with its own ED25519 host key), the client pins that key as the
 * program does, and each command runs exactly as registered (its command line as the SSH exec
 * request, its settings on stdin). Inside the session, `sudo` and the system tools the scripts
 * change are fakes and every path is under a temporary root, so nothing of this machine changes;
 * nft is real and acts on the namespace only.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { decodeSettings } from "../../k8s/bootstrap/scripts";
import { named, ROOT, RunResult, runOk, stackConfigFrom } from "../../scripts/mock-program";
import { fakeBin, must, requireRoot, requireTool, run, tempDir } from "../tools";

const id = process.pid % 100000;
const NS = `ock-ssh-${id}`;
const HOST_IP = "198.18.10.2";
const CLIENT_IP = "198.18.10.1";
const COMMAND = "command:remote:Command";

describe("existing hosts over a real SSH session (sshd in a network namespace)", function () {
  this.timeout(60_000);
  let dir = "";
  let root = "";
  let sshd: ChildProcess | undefined;
  let knownHosts = "";
  let clientKey = "";
  let plan: RunResult;

  before(async function () {
    requireRoot(this, "network namespaces and sshd need root");
    for (const tool of ["sshd", "ssh", "ssh-keygen", "ip", "nft"]) requireTool(this, tool);
    dir = tempDir("ssh-host");
    root = path.join(dir, "root");
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/os-release"), 'ID=debian\nVERSION_ID="12"\n');
    fs.writeFileSync(path.join(root, "etc/fstab"), "UUID=abc / ext4 defaults 0 1\n");
    fs.writeFileSync(path.join(root, "etc/resolv.conf"), "nameserver 192.0.2.53\n");
    // The host's own key, as ssh-keyscan would report it; the stack pins it.
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client_key")]);
    clientKey = path.join(dir, "client_key");
    const hostKey = fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    // Fakes for what would change this machine; everything else is the system's own.
    const fakes = path.join(dir, "fakes");
    fs.mkdirSync(fakes);
    fakeBin(fakes, "sudo", 'exec "$@"');
    for (const tool of ["modprobe", "sysctl", "swapoff", "apt-get", "dpkg", "dpkg-query"]) fakeBin(fakes, tool);
    // No firewalld on this host (is-active/is-enabled answer "no"); everything else succeeds.
    fakeBin(fakes, "systemctl", 'case "$*" in *firewalld*) exit 3 ;; esac');
    // An Ubuntu VPS has cloud-init, long done; this machine's own would wait for a boot it never had.
    fakeBin(fakes, "cloud-init", "echo 'status: done'");
    fs.writeFileSync(
      path.join(dir, "sshd_config"),
      [
        `ListenAddress ${HOST_IP}`,
        `HostKey ${path.join(dir, "host_key")}`,
        `AuthorizedKeysFile ${clientKey}.pub`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "StrictModes no",
        "UsePAM no",
        `SetEnv OCI_K8S_ROOT=${root} PATH=${fakes}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        "",
      ].join("\n"),
    );
    must("ip", ["netns", "add", NS]);
    must("ip", ["link", "add", `sshc${id}`, "type", "veth", "peer", "name", `sshh${id}`, "netns", NS]);
    must("ip", ["addr", "add", `${CLIENT_IP}/24`, "dev", `sshc${id}`]);
    must("ip", ["link", "set", `sshc${id}`, "up"]);
    must("ip", ["netns", "exec", NS, "ip", "addr", "add", `${HOST_IP}/24`, "dev", `sshh${id}`]);
    must("ip", ["netns", "exec", NS, "ip", "link", "set", `sshh${id}`, "up"]);
    must("ip", ["netns", "exec", NS, "ip", "link", "set", "lo", "up"]);
    fs.mkdirSync("/run/sshd", { recursive: true });
    sshd = spawn("ip", ["netns", "exec", NS, "/usr/sbin/sshd", "-D", "-e", "-f", path.join(dir, "sshd_config")], {
      stdio: "ignore",
    });
    knownHosts = path.join(dir, "known_hosts");
    fs.writeFileSync(knownHosts, `${HOST_IP} ${hostKey}\n`);
    for (let i = 0; i < 50 && ssh("true").status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    // The host as a stack lists it: its address and pinned host key, the firewall on.
    plan = await runOk("ssh", {
      ...stackConfigFrom(path.join(ROOT, "examples", "hosts", "Pulumi.vps-kubeadm.yaml")),
      "oci-k8s:hostUser": "root",
      "oci-k8s:adminCidrs": [`${CLIENT_IP}/32`],
      "oci-k8s:hosts": [{ name: "vps-1", role: "server", address: HOST_IP, memoryGb: 4, hostKey }],
    });
  });

  after(() => {
    sshd?.kill();
    spawnSync("ip", ["link", "delete", `sshc${id}`]);
    spawnSync("ip", ["netns", "delete", NS]);
  });

  /** One SSH exec request, as pulumi-command sends it: the command line, stdin, the pinned host key. */
  function ssh(command: string, input = "", known = knownHosts) {
    return run(
      "ssh",
      [
        "-i",
        clientKey,
        "-o",
        `UserKnownHostsFile=${known}`,
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        `root@${HOST_IP}`,
        command,
      ],
      { input, timeout: 30_000 },
    );
  }

  it("the pinned host key is checked: the host answers with it, and a different pinned key is refused", () => {
    assert.equal(ssh("true").status, 0);
    const wrong = path.join(dir, "wrong_known_hosts");
    must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "other_key")]);
    fs.writeFileSync(wrong, `${HOST_IP} ${fs.readFileSync(path.join(dir, "other_key.pub"), "utf8")}`);
    const r = ssh("true", "", wrong);
    assert.equal(r.status, 255);
    assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    // And the stack pins exactly the key the host holds.
    assert.equal(
      named(plan, COMMAND, "vps-1-prepare").inputs.connection.hostKey,
      fs.readFileSync(knownHosts, "utf8").split(" ").slice(1).join(" ").trim(),
    );
  });

  it("prepare, firewall and wait run over SSH exactly as registered, and the firewall acts on the host", () => {
    for (const name of ["vps-1-prepare", "vps-1-firewall", "vps-1-wait"]) {
      const c = named(plan, COMMAND, name);
      assert.ok(String(c.inputs.stdin ?? "").length > 0 || name.endsWith("-wait"), `${name} has its settings`);
      const r = ssh(c.inputs.create, typeof c.inputs.stdin === "string" ? c.inputs.stdin : "");
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    }
    assert.ok(fs.existsSync(path.join(root, "var/lib/oci-k8s/host-ready")));
    assert.equal(fs.readFileSync(path.join(root, "etc/oci-k8s/resolv.conf"), "utf8"), "nameserver 192.0.2.53\n");
    const table = must("ip", ["netns", "exec", NS, "nft", "list", "table", "inet", "oci_k8s"]);
    const ruleset = decodeSettings(named(plan, COMMAND, "vps-1-firewall").inputs.stdin).RULESET;
    assert.match(table, new RegExp(`ip saddr ${CLIENT_IP} tcp dport 22 accept`));
    assert.match(ruleset, /table inet oci_k8s/);
    // SSH still answers from the admin address through the applied firewall; remove takes it away again.
    assert.equal(ssh("true").status, 0);
    // pulumi-command sends a delete the stdin kept in the state: the script and its settings.
    const fw = named(plan, COMMAND, "vps-1-firewall");
    const removed = ssh(fw.inputs.delete, fw.inputs.stdin);
    assert.equal(removed.status, 0, removed.stderr);
    assert.notEqual(run("ip", ["netns", "exec", NS, "nft", "list", "table", "inet", "oci_k8s"]).status, 0);
  });
});
