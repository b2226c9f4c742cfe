import { expect, test } from "bun:test";

test("process warnings go into the JSON log, with their stack, and nothing else reaches stderr", async () => {
  const code = `
    import { EventEmitter } from "node:events";
    import { createLogger, logProcessWarnings } from "${import.meta.dir}/index.ts";
    logProcessWarnings(createLogger("info", { app: "t" }));
    const e = new EventEmitter();
    for (let i = 0; i < 11; i++) e.on("connect", () => {});
    process.emitWarning("an old API", "DeprecationWarning");
    await Bun.sleep(20);
  `;
  const child = Bun.spawn([process.execPath, "-e", code], { stderr: "pipe", stdout: "pipe" });
  const stderr = await new Response(child.stderr).text();
  expect(await child.exited).toBe(0);
  const lines = stderr.trim().split("\n");
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, string>);
  expect(parsed.map((l) => l.name)).toEqual(["MaxListenersExceededWarning", "DeprecationWarning"]);
  expect(parsed.every((l) => l.level === "warn" && l.msg === "process warning" && l.app === "t")).toBe(true);
  expect(parsed[0]!.stack).toContain("addListener");
});

test("an error nothing handled is one JSON line, and the process still exits 1", async () => {
  const code = `
    import { createConnection } from "node:net";
    import { createLogger, logProcessWarnings } from "${import.meta.dir}/index.ts";
    logProcessWarnings(createLogger("info", { app: "t" }));
    createConnection({ port: 1, host: "127.0.0.1" }); // refused, and no 'error' listener
    await Bun.sleep(2_000);
  `;
  const child = Bun.spawn([process.execPath, "-e", code], { stderr: "pipe", stdout: "pipe" });
  const stderr = await new Response(child.stderr).text();
  expect(await child.exited).toBe(1);
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]!) as Record<string, string>;
  expect(line.level).toBe("error");
  expect(line.msg).toBe("fatal: uncaught exception; exiting");
  expect(line.err).toContain("ECONNREFUSED");
});
