/** Structured JSON logs, one object per line on stderr, filtered by level. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Logger = (
  level: Exclude<LogLevel, "silent">,
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const min = rank[level];
  return (lvl, msg, fields) => {
    if (rank[lvl] < min) return;
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields })}\n`,
    );
  };
}

export const silentLogger: Logger = () => {};

/**
 * An error as log fields: `err` names it (type and message) and `stack` says where it was thrown, so
 * a log line is enough to find the fault. Every log call that carries an error spreads these.
 */
export function errorFields(err: unknown): { err: string; stack?: string } {
  if (err instanceof Error && err.stack) return { err: String(err), stack: err.stack };
  return { err: String(err) };
}

/**
 * Routes the runtime's process warnings (MaxListenersExceededWarning, TimeoutNegativeWarning,
 * deprecations) and its fatal errors (an exception or rejection nothing handled, e.g. a backing
 * service unreachable at start) into the JSON log, with the stack that says where they came from,
 * instead of the runtime's plain-text lines on stderr: a process's log is JSON only. A fatal error
 * still ends the process (exit code 1), as the runtime would: its supervisor restarts it. Call once,
 * at start.
 */
export function logProcessWarnings(log: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", (w) =>
    log("warn", "process warning", { name: w.name, warning: w.message, stack: w.stack }),
  );
  const fatal = (kind: string) => (err: unknown) => {
    log("error", `fatal: ${kind}; exiting`, errorFields(err));
    process.exit(1);
  };
  process.on("uncaughtException", fatal("uncaught exception"));
  process.on("unhandledRejection", fatal("unhandled rejection"));
}
