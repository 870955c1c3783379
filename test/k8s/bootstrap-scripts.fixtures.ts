/** Shared by the bootstrap-scripts tests: fixtures and helpers. */
import * as fs from "fs";
import * as path from "path";
import { encodeSettings, scriptText, ScriptName } from "../../k8s/bootstrap/scripts";
import { calls, fakeBin, Run, run, SCRIPT_TOOLS, systemTools, tempDir } from "../tools";

// Fakes first, then only the named system tools: a real etcdctl (or kubectl, curl ...) on the
// test machine is never found by a script under test.
export let systemDir = "";
export const systemPath = () => (systemDir ||= systemTools(SCRIPT_TOOLS));

export const TOKEN = "SecretClusterTokenThatMustNeverBePrinted0123456789";

export interface Sandbox {
  readonly root: string;
  readonly bin: string;
  readonly state: string;
  run(name: ScriptName, args: string[], settings?: Record<string, string>, env?: Record<string, string>): Run;
  calls(): string[];
}

export function sandbox(): Sandbox {
  const dir = tempDir("bootstrap");
  const root = path.join(dir, "root");
  const bin = path.join(dir, "bin");
  const state = path.join(dir, "state");
  for (const d of [root, bin, state]) fs.mkdirSync(d);
  // systemctl: enable/restart make a service active; is-active answers from that state.
  fakeBin(
    bin,
    "systemctl",
    `case "$1" in
  restart) touch "${state}/active-$2" ;;
  is-active) [[ -e "${state}/active-\${@: -1}" ]] ;;
  *) exit 0 ;;
esac`,
  );
  return {
    root,
    bin,
    state,
    run: (name, args, settings = {}, env = {}) =>
      run("bash", ["-c", scriptText(name), name, ...args], {
        // The node's privateIp must be on one of its interfaces: loopback's, unless a test says otherwise.
        input: encodeSettings({ NODE_IP: "127.0.0.1", ...settings }),
        // No containerd answers here: kubeadm.sh's wait for its CRI after a restart is off unless a test asks.
        env: {
          PATH: `${bin}:${systemPath()}`,
          OCI_K8S_ROOT: root,
          OCI_K8S_RETRY_DELAY: "0",
          OCI_K8S_CRI_ATTEMPTS: "0",
          FAKE_STATE: state,
          ...env,
        },
      }),
    calls: () => calls(bin),
  };
}

/** curl that "downloads" an installer which installs a fake k3s/rke2 binary. */
export function fakeRancher(s: Sandbox, dist: "k3s" | "rke2") {
  const versionVar = dist === "k3s" ? "INSTALL_K3S_VERSION" : "INSTALL_RKE2_VERSION";
  fakeBin(
    s.bin,
    "curl",
    `out=""; while [[ $# -gt 0 ]]; do [[ "$1" == -o ]] && out="$2"; shift; done
cat > "$out" <<'INSTALLER'
echo "installer $${versionVar}" >> "$FAKE_STATE/installs"
if [ -n "\${FAKE_INSTALL_FAIL:-}" ]; then echo "downloading binary failed" >&2; exit 7; fi
cat > "${s.bin}/${dist}" <<BINARY
#!/usr/bin/env bash
echo "${dist} \\$*" >> "${s.bin}/calls.log"
if [[ "\\$1" == --version ]]; then echo "${dist} version $${versionVar} (fake)"; exit 0; fi
if [[ "\\$*" == *readyz* ]]; then
  n=\\$(( \\$(cat "$FAKE_STATE/readyz" 2>/dev/null || echo 0) + 1 )); echo \\$n > "$FAKE_STATE/readyz"
  [[ \\$n -ge \\\${FAKE_READY_AFTER:-1} ]]
fi
BINARY
chmod +x "${s.bin}/${dist}"
INSTALLER`.replace(/\$\$\{versionVar\}/g, `$${versionVar}`),
  );
}

export const installs = (s: Sandbox) =>
  fs.existsSync(path.join(s.state, "installs")) ? fs.readFileSync(path.join(s.state, "installs"), "utf8").trim().split("\n") : [];
export const k3sServer = (version = "v1.34.9+k3s1", config = `token: ${TOKEN}\nnode-name: server-1\ncluster-init: true`) => ({
  VERSION: version,
  CONFIG: config,
  KUBECTL: "k3s kubectl",
});

/** Splits a POSIX command line as k8s/bootstrap/scripts.ts quotes it (bare words and '...' words). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === " ") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error("unclosed quote");
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === "\\") {
      word = (word ?? "") + line[++i];
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * A sandbox for kubeadm.sh: apt, gpg, curl, containerd and kubectl faked to succeed, the kubelet
 * already at v1.34.9, and `kubeadm` running the body made for the sandbox's paths (by default it succeeds doing nothing).
 */
export function kubeadmSandbox(kubeadmBody: (s: Sandbox) => string = () => "exit 0"): Sandbox {
  const s = sandbox();
  for (const tool of ["apt-get", "apt-mark", "gpg", "curl", "containerd", "kubectl"]) fakeBin(s.bin, tool);
  fakeBin(s.bin, "kubelet", `echo "Kubernetes v1.34.9"`);
  fakeBin(s.bin, "kubeadm", kubeadmBody(s));
  return s;
}
