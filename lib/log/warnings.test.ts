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
