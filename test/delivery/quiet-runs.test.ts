/** A run under the mock runtime keeps the program's log (the free-tier and capacity tables) unless asked to print it. */
import { strict as assert } from "assert";
import { PRINT_LOGS_ENV, runOk, RunResult, stackConfig } from "../../scripts/mock-program";

/** What a run writes to stdout and stderr while it runs, beside its result. */
async function printedBy(run: () => Promise<RunResult>): Promise<{ printed: string; result: RunResult }> {
  const chunks: string[] = [];
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const capture = (chunk: unknown) => (chunks.push(String(chunk)), true);
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    const result = await run();
    return { printed: chunks.join(""), result };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
  }
}

describe("the mock runtime's log: quiet tests, the tables where a test asks", () => {
  it("a run prints nothing and records the free-tier and platform memory tables in its logs", async () => {
    const saved = process.env[PRINT_LOGS_ENV];
    delete process.env[PRINT_LOGS_ENV];
    try {
      const { printed, result } = await printedBy(() => runOk("dev", stackConfig("dev")));
      assert.doesNotMatch(printed, /Free-tier usage|Platform memory requests/);
      const info = result.logs.filter((l) => l.severity === "info").map((l) => l.message);
      assert.ok(
        info.some((m) => /^Free-tier usage \(always-free\):\nresource +used +free/.test(m)),
        info.join("\n"),
      );
      assert.ok(
        info.some((m) => /^Platform memory requests:\ncomponent +version +memory/.test(m)),
        info.join("\n"),
      );
    } finally {
      if (saved !== undefined) process.env[PRINT_LOGS_ENV] = saved;
    }
  });

  it(`prints the same log as the CLI would with log: "print" (the offline plan) or ${PRINT_LOGS_ENV}=1`, async () => {
    const { printed } = await printedBy(() => runOk("dev", stackConfig("dev"), { log: "print" }));
    assert.match(printed, /info: \[runtime\] Free-tier usage \(always-free\):\nresource +used/);
    assert.match(printed, /info: \[runtime\] Platform memory requests:\ncomponent/);
    const saved = process.env[PRINT_LOGS_ENV];
    process.env[PRINT_LOGS_ENV] = "1";
    try {
      assert.match((await printedBy(() => runOk("dev", stackConfig("dev")))).printed, /Platform memory requests/);
    } finally {
      if (saved === undefined) delete process.env[PRINT_LOGS_ENV];
      else process.env[PRINT_LOGS_ENV] = saved;
    }
  });
});
