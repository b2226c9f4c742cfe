import { expect, test } from "bun:test";
import { costSec, describe as describeFault, plan, templates } from "./schedule.ts";

test("a 5-minute plan has every kind of fault, fits its window, and is the same for the same seed", () => {
  const window = 260;
  const a = plan(42, window);
  expect(plan(42, window)).toEqual(a);
  expect(plan(43, window)).not.toEqual(a);
  const kinds = new Set(
    a.map(
      (p) =>
        `${p.fault.kind}:${"target" in p.fault ? p.fault.target.replace(/-\d+$/, "") : "service" in p.fault && p.fault.kind === "restart" ? p.fault.service : ""}`,
    ),
  );
  for (const k of [
    "kill:ws-node",
    "kill:presence-node",
    "kill:http-api",
    "freeze:ws-node",
    "freeze:presence-node",
    "freeze:http-api",
    "restart:postgres",
    "restart:redis",
    "restart:kafka",
    "restart:ferretdb",
    "nginx-reload:",
    "latency:",
    "blackhole:",
    "reset:",
    "cut:",
  ]) {
    expect(kinds.has(k)).toBe(true);
  }
  expect(a.length).toBeGreaterThanOrEqual(templates(3).length);
  for (const [i, p] of a.entries()) {
    expect(p.atSec + costSec(p.fault)).toBeLessThanOrEqual(window);
    if (i > 0) expect(p.atSec).toBeGreaterThanOrEqual(a[i - 1]!.atSec + costSec(a[i - 1]!.fault) + 2);
    expect(describeFault(p.fault).length).toBeGreaterThan(5);
  }
});

test("a short window holds only what fits", () => {
  expect(plan(1, 0)).toEqual([]);
  for (const p of plan(1, 30)) expect(p.atSec + costSec(p.fault)).toBeLessThanOrEqual(30);
});
