import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedApp, startEmbeddedApp } from "../../testkit/embedded-app.ts";
import { ensureVenv } from "../../testkit/python-venv.ts";

/**
 * Schemathesis (PyPI) against /api/openapi.json of the one-process app, as part of every test run:
 * generated requests — examples, coverage, fuzzing and stateful sequences, authenticated as a real
 * user — must never get a server error, and every response must match its documented schema and
 * content type; a method a path does not serve must get 405. Installed once into a virtualenv under
 * ~/.cache/chattalk (CHATTALK_CACHE_DIR), pinned; the run is bounded by --max-time. A fixed seed
 * keeps runs comparable (CHATTALK_SCHEMATHESIS_SEED picks another).
 */
const VERSION = "4.32.5";
const CHECKS = [
  "not_a_server_error",
  "response_schema_conformance",
  "content_type_conformance",
  "unsupported_method",
];
const MAX_TIME_SEC = 40;
/** The pinned schemathesis in its own virtualenv (installed on first use). */
const schemathesis = () =>
  join(
    ensureVenv(`schemathesis-${VERSION}`, [`schemathesis==${VERSION}`], "bin/schemathesis"),
    "bin/schemathesis",
  );

let app: EmbeddedApp;
let bin = "";
let workDir: string;
beforeAll(async () => {
  bin = schemathesis();
  workDir = mkdtempSync(join(tmpdir(), "chattalk-schemathesis-"));
  // Limits high enough that the run exercises the routes rather than the rate limiter.
  const high = "100000";
  app = await startEmbeddedApp({
    SIGNUP_IP_BURST: high,
    LOGIN_IP_BURST: high,
    LOGIN_PAIR_BURST: high,
    LOGIN_USERNAME_BURST: high,
    ACTION_IP_BURST: high,
    ROOM_CREATE_BURST: high,
    ROOM_ACTION_BURST: high,
    HTTP_MAX_REQUESTS_IN_FLIGHT_PER_IP: "10000",
  });
}, 400_000);
afterAll(async () => {
  await app?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test("schemathesis: no server error, every response as documented", async () => {
  const user = await app.signup("fuzzer");
  const args = [
    bin,
    "run",
    `${app.url}/api/openapi.json`,
    "--checks",
    CHECKS.join(","),
    "--max-time",
    String(MAX_TIME_SEC),
    "--seed",
    process.env.CHATTALK_SCHEMATHESIS_SEED ?? "1",
    "--generation-database",
    "none",
    "--header",
    `Authorization: Bearer ${user.token}`,
    "--no-color",
  ];
  const p = Bun.spawn(args, { cwd: workDir, stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => p.kill(), (MAX_TIME_SEC + 60) * 1000);
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  clearTimeout(killer);
  const summary = /(\d+) generated, (\d+) (?:passed|found)/.exec(out);
  if (code !== 0) console.log(`${out}\n${err}`);
  else console.log(`schemathesis: ${summary?.[0] ?? "?"} (${CHECKS.join(", ")})`);
  expect(code).toBe(0);
  // It exercised the API (at least a case per operation), even on a loaded machine.
  const operations = Number(/Tested:\s+(\d+)/.exec(out)?.[1] ?? 0);
  expect(operations).toBeGreaterThanOrEqual(16);
  expect(Number(summary?.[1] ?? 0)).toBeGreaterThanOrEqual(operations);
}, 200_000);
