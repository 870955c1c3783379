/** The program's log under the mock runtime: kept in the run's result, printed only when asked. */
import * as pulumi from "@pulumi/pulumi";

export interface LogLine {
  readonly severity: "info" | "warn";
  readonly message: string;
}

/** Set to print what the program logs in every test run as well (by default a run keeps it in `logs`). */
export const PRINT_LOGS_ENV = "OCI_K8S_TEST_LOGS";

/**
 * Routes pulumi.log.info and warn into `logs` for one run (printing them too when `print`), and
 * returns what puts the SDK's own functions back. Without an engine the SDK prints every message.
 */
export function keepLog(logs: LogLine[], print: boolean): () => void {
  const log = pulumi.log as { info: typeof pulumi.log.info; warn: typeof pulumi.log.warn };
  const original = { info: log.info, warn: log.warn };
  for (const severity of ["info", "warn"] as const) {
    log[severity] = (message: string, ...rest) => {
      logs.push({ severity, message });
      return print ? original[severity](message, ...rest) : Promise.resolve();
    };
  }
  return () => Object.assign(log, original);
}
