/**
 * docs/operations.md's restore and upgrade procedures are numbered steps, each ending with a
 * check and the output to expect (typhoon's docs are the model), and the program's own messages
 * they quote are ones its scripts print.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../scripts/mock-program";

const page = fs.readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
const scripts = fs
  .readdirSync(path.join(ROOT, "k8s", "bootstrap", "scripts"))
  .map((f) => fs.readFileSync(path.join(ROOT, "k8s", "bootstrap", "scripts", f), "utf8"))
  .join("\n");

/** What the scripts print through log and die (lib.sh adds "[oci-k8s] " or "FAILED: "), shell variables and all. */
const MESSAGES = [...scripts.matchAll(/\b(?:log|die) "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);

/** A script message as a pattern: each shell variable stands for any text. */
const pattern = (message: string) =>
  new RegExp(
    `^${message
      .split(/\$\{[^}]*\}|\$[A-Za-z_]\w*/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".+")}$`,
  );

/**
 * Whether a script message reads as the docs quote it: `<placeholder>`s stand for a variable's
 * value, and a quote ending in `...` is the message's beginning.
 */
function printedAs(scriptMessage: string, quoted: string): boolean {
  const truncated = quoted.endsWith("...");
  const text = (truncated ? quoted.slice(0, -3) : quoted).replace(/<[^>]+>/g, "X");
  if (!truncated) return pattern(scriptMessage).test(text);
  for (let length = 1; length <= scriptMessage.length; length++)
    if (pattern(scriptMessage.slice(0, length)).test(text)) return true;
  return false;
}

/** The text between a heading line and the next line starting with `until`. */
function section(heading: string, until: RegExp): string {
  const start = page.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/operations.md has ${heading}`);
  const rest = page.slice(start + heading.length + 2);
  const end = rest.search(until);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Numbered steps: a line `N. ...` and its indented continuation lines. */
function steps(text: string): { n: number; text: string }[] {
  const found: { n: number; text: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+)\. (.*)$/.exec(line);
    if (m) found.push({ n: Number(m[1]), text: m[2] });
    else if (found.length > 0 && /^ {3}\S/.test(line)) found[found.length - 1].text += ` ${line.trim()}`;
    else if (found.length > 0 && line.trim() !== "") break;
  }
  return found;
}

const PROCEDURES = [
  ["### k3s and RKE2", /^### /m],
  ["### kubeadm", /^#{2,3} /m],
  ["## Upgrades", /^\*\*OS updates/m],
] as const;

describe("docs/operations.md: restore and upgrade as numbered steps with checks", () => {
  for (const [heading, until] of PROCEDURES) {
    it(`${heading.replace(/^#+ /, "")}: every step ends with "Check:" and the output to expect`, () => {
      const list = steps(section(heading, until));
      assert.ok(list.length >= 3, `${heading} has numbered steps`);
      assert.deepEqual(
        list.map((s) => s.n),
        list.map((_, i) => i + 1),
        "numbered 1, 2, 3, ...",
      );
      for (const step of list) {
        const check = step.text.lastIndexOf("Check:");
        assert.ok(check >= 0, `step ${step.n} has no check: ${step.text}`);
        assert.match(step.text.slice(check), /`[^`]+`/, `step ${step.n}'s check quotes no expected output: ${step.text}`);
      }
    });
  }

  it("every message of the program the steps quote ([oci-k8s] ..., FAILED: ...) is one its scripts print", () => {
    const quoted = PROCEDURES.flatMap(([heading, until]) =>
      [
        ...section(heading, until)
          .replace(/\n\s*/g, " ")
          .matchAll(/`(\[oci-k8s\] |FAILED: )([^`]+)`/g),
      ].map((m) => m[2]),
    );
    assert.ok(quoted.length >= 4, quoted.join("\n"));
    for (const message of quoted)
      assert.ok(
        MESSAGES.some((m) => printedAs(m, message)),
        `no script prints "${message}"`,
      );
  });
});
