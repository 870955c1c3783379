/** Checks every booted machine passes, whatever it plays. */
import { strict as assert } from "assert";
import { Machine } from "./machine";

/**
 * `systemd-analyze verify` (systemd 252, Debian 12) on every unit file the program wrote (regular
 * files in /etc/systemd/system; the image's own are symlinks there), inside the booted machine, so
 * each is checked beside the machine's real units (cloud-init's among them). Returns the units.
 */
export function verifyOurUnits(m: Machine): string[] {
  const units = m
    .must(
      "find /etc/systemd/system -maxdepth 1 -type f \\( -name '*.service' -o -name '*.mount' -o -name '*.target' -o -name '*.timer' \\)",
    )
    .split("\n")
    .filter(Boolean);
  for (const unit of units) {
    // --man=no: the machines have no man pages to check Documentation= against.
    const r = m.sh(`systemd-analyze verify --man=no ${unit}`);
    assert.equal(r.status, 0, `${m.name}: systemd-analyze verify ${unit}:\n${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stderr, /ordering cycle|Found dependency on/i, `${m.name}: ${unit}`);
  }
  return units;
}

/** systemd found no ordering cycle this boot (it would have deleted a job to break it). */
export function noOrderingCycle(m: Machine): void {
  const cycles = m.sh("journalctl -b --no-pager -o cat | grep -iE 'ordering cycle|to break ordering cycle'").stdout;
  assert.equal(cycles.trim(), "", `${m.name}: the journal reports an ordering cycle`);
}

/** No unit failed; the failures' own journal lines in the message otherwise. */
export function noFailedUnit(m: Machine, when: string): void {
  const failed = m.must("systemctl list-units --failed --plain --no-legend").trim();
  const why = failed ? m.sh("journalctl -b --no-pager -o cat -p warning | tail -n 30").stdout : "";
  assert.equal(failed, "", `${m.name} (${when}): failed units:\n${why}`);
}

/**
 * The boot transaction has no ordering cycle, checked two ways that work in a container. systemd
 * computes the boot's transaction before journald runs, and a machine has no /dev/kmsg to keep
 * those lines, so a cycle found at boot never reaches the journal (noOrderingCycle cannot see it
 * here). So: `systemd-analyze verify --generators=yes default.target` inside the machine loads the
 * boot transaction as PID 1 does (with cloud-init's generator linking cloud-init.target in) and
 * prints "Found ordering cycle" / "Job ... deleted to break ordering cycle"; and each of `units`
 * (enabled, in the boot transaction) did start this boot, which a unit whose start job systemd
 * deleted to break a cycle never does (ConditionTimestamp stays 0).
 */
export function noBootCycle(m: Machine, units: string[]): void {
  const r = m.sh("systemd-analyze verify --man=no --generators=yes default.target");
  const cycle = `${r.stdout}${r.stderr}`
    .split("\n")
    .filter((l) => /ordering cycle|deleted to break/i.test(l))
    .join("\n");
  const notStarted = units.filter((u) => m.must(`systemctl show -P ConditionTimestampMonotonic ${u}`).trim() === "0");
  assert.ok(
    cycle === "" && notStarted.length === 0,
    `${m.name}: systemd-analyze verify default.target (the boot transaction):\n${cycle || "(no cycle)"}\n` +
      `enabled but not started this boot (a job deleted to break a cycle): ${notStarted.join(", ") || "none"}`,
  );
}
