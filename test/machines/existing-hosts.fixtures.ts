/** The existing-hosts machines suite's fixtures: the VPS cloud-config, the stand-in k3s files and their mirror. */
import { ChildProcess, spawn } from "child_process";
import { createHash } from "crypto";
import { stringify } from "yaml";
import { inSuite, Machine, PUBLIC_NET, SUITE_NS } from "./machine";

export const MIRROR_PORT = 8088;
export const MIRROR = `http://${PUBLIC_NET.gateway}:${MIRROR_PORT}`;

/**
 * Stand-in k3s release files (machines suite, test only; NOT k3s): an install.sh that records how
 * it was called and writes a k3s unit and uninstaller as upstream's does, a binary that answers
 * --version, runs as the service and answers the readiness probe, and an image tarball.
 */
export const STAND_INS: Record<string, string> = {
  "install.sh": `#!/bin/sh
# STAND-IN k3s install.sh (machines suite, test only; not k3s)
set -eu
echo "stand-in installer SKIP=$INSTALL_K3S_SKIP_DOWNLOAD VERSION=$INSTALL_K3S_VERSION EXEC=$INSTALL_K3S_EXEC" >> /var/lib/k3s-standin-installs
printf '[Unit]\nDescription=STAND-IN k3s (test only)\n[Service]\nExecStart=/usr/local/bin/k3s %s\n[Install]\nWantedBy=multi-user.target\n' "$INSTALL_K3S_EXEC" > /etc/systemd/system/k3s.service
printf '#!/bin/sh\n# STAND-IN k3s-uninstall.sh (test only)\nsystemctl disable --now k3s >/dev/null 2>&1 || true\nrm -f /etc/systemd/system/k3s.service /usr/local/bin/k3s /usr/local/bin/k3s-uninstall.sh\nsystemctl daemon-reload\n' > /usr/local/bin/k3s-uninstall.sh
chmod 0755 /usr/local/bin/k3s-uninstall.sh
systemctl daemon-reload
`,
  k3s: `#!/bin/sh
# STAND-IN k3s binary (machines suite, test only; not k3s)
case "$1" in
  --version) echo "k3s version stand-in (not k3s)" ;;
  server | agent) exec sleep infinity ;;
  kubectl) echo ok ;;
esac
`,
  "k3s-airgap-images-amd64.tar.zst": "STAND-IN k3s image tarball (machines suite, test only)\n",
};
export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export interface Host {
  readonly machine: Machine;
  readonly hostKey: string;
  readonly role: "server" | "agent";
}

/** The cloud-config a VPS provider boots the machine with (the test's, not the program's). */
export function vpsUserData(key: { privateKeyOpenssh: string; publicKeyOpenssh: string }, swap: boolean): string {
  return `#cloud-config\n${stringify(
    {
      manage_etc_hosts: true,
      ssh_deletekeys: true,
      ssh_keys: { ed25519_private: key.privateKeyOpenssh, ed25519_public: key.publicKeyOpenssh.trim() },
      // A swap entry as many VPS images have one (a container cannot turn swap on: the entry is what is checked).
      ...(swap ? { bootcmd: ["grep -q '^/swapfile' /etc/fstab || echo '/swapfile none swap sw 0 0' >> /etc/fstab"] } : {}),
    },
    { lineWidth: 0 },
  )}`;
}

/** Serves `dir` as the artifact mirror: inside the suite's namespace, on the bridge's address; nothing else serves it. */
export function serveMirror(dir: string): ChildProcess {
  return spawn(
    "ip",
    [
      "netns",
      "exec",
      SUITE_NS,
      "python3",
      "-m",
      "http.server",
      String(MIRROR_PORT),
      "--bind",
      PUBLIC_NET.gateway,
      "--directory",
      dir,
    ],
    { stdio: "ignore" },
  );
}

/** Whether the artifact mirror answers (100 tries, 100 ms apart). */
export async function mirrorUp(): Promise<boolean> {
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = inSuite("curl", ["-sf", "-o", "/dev/null", `${MIRROR}/install.sh`]).status === 0;
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  return up;
}
