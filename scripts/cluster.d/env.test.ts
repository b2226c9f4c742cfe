import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../lib/config/index.ts";
import { parseExports, randomSecret, sharedEnv } from "./env.ts";
import { formatExit, formatStatus, formatTable } from "./status.ts";

describe("cluster environment", () => {
  test("reads scripts/services env output", () => {
    const env = parseExports(
      "export DATABASE_URL=postgres://u:p@127.0.0.1:55432/db\nexport REDIS_URL='redis://127.0.0.1:56379'\nnot an export\n",
    );
    expect(env).toEqual({
      DATABASE_URL: "postgres://u:p@127.0.0.1:55432/db",
      REDIS_URL: "redis://127.0.0.1:56379",
    });
  });

  test("service URLs, then the caller's ChatTalk settings; per-process keys and foreign variables stay out", () => {
    const services = { DATABASE_URL: "postgres://a@h:1/d", KAFKA_BROKERS: "h:2", NGINX_URL: "http://h:3" };
    const caller = {
      SEND_RATE_PER_SEC: "50",
      PORT: "1234",
      NODE_ID: "mine",
      HOME: "/root",
      KAFKA_BROKERS: "other:9",
    };
    const env = sharedEnv(services, caller, () => "s".repeat(40));
    expect(env).toEqual({
      DATABASE_URL: "postgres://a@h:1/d",
      KAFKA_BROKERS: "other:9",
      SEND_RATE_PER_SEC: "50",
      JWT_SECRET: "s".repeat(40),
      TRUST_PROXY: "true",
    });
    expect(parseConfig(env).TRUST_PROXY).toBe(true);
    expect(sharedEnv({}, { JWT_SECRET: "k".repeat(32) }, randomSecret).JWT_SECRET).toBe("k".repeat(32));
  });

  test("generated secrets are long enough for HS256 and differ", () => {
    const [a, b] = [randomSecret(), randomSecret()];
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(a).not.toBe(b);
    expect(() => parseConfig({ JWT_SECRET: a })).not.toThrow();
  });
});

describe("status output", () => {
  test("columns are padded to the widest cell", () => {
    expect(formatTable(["A", "BB"], [["xxx", "y"]])).toBe("A    BB\nxxx  y");
  });

  test("a process without figures shows '-', restarts and the last exit are shown, the supervisor and lag named", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    const text = formatStatus(
      {
        url: "http://127.0.0.1:58000/",
        supervisor: { pid: 9, alive: true },
        upstream: [58011],
        processes: [
          {
            name: "ws-node-1",
            pid: 10,
            port: 58011,
            url: "u1",
            alive: true,
            health: "ready",
            restarts: 1,
            lastExit: { at: "2026-12-01T11:59:48Z", code: null, signal: "SIGKILL", ranSec: 30 },
            connections: 4,
            messagesIn: 7,
            messagesOut: 28,
          },
          {
            name: "http-api",
            pid: 11,
            port: 58001,
            url: "u2",
            alive: false,
            health: "restarting",
            restarts: 0,
          },
        ],
        lag: {
          group: "chattalk-backlog-writer",
          topic: "t",
          total: 3,
          partitions: [{ partition: 0, committed: 1, end: 4, lag: 3 }],
        },
      },
      now,
    );
    expect(text.split("\n")).toEqual([
      "NAME       PID  PORT   HEALTH      RESTARTS  LAST EXIT        CONNS  MSGS IN  MSGS OUT  URL",
      "ws-node-1  10   58011  ready       1         SIGKILL 12s ago  4      7        28        u1",
      "http-api   11   58001  restarting  0         -                -      -        -         u2",
      "supervisor: pid 9, restarting what exits; nginx sends clients to 58011",
      "kafka lag of chattalk-backlog-writer on t: 3 (p0=3)",
      "open http://127.0.0.1:58000/",
    ]);
  });

  test("exits are told by signal or code, in seconds, minutes or hours", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    expect(formatExit(undefined, now)).toBe("-");
    expect(formatExit({ at: "2026-12-01T11:57:00Z", code: 1, signal: null, ranSec: 1 }, now)).toBe(
      "code 1 3m ago",
    );
    expect(formatExit({ at: "2026-12-01T09:00:00Z", code: null, signal: null, ranSec: 1 }, now)).toBe(
      "exited 3h ago",
    );
  });
});
