import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "./index.ts";

describe("parseConfig", () => {
  test("empty environment gives the embedded defaults", () => {
    const c = parseConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.DATA_DIR).toBe("./data");
    expect(c.KAFKA_BROKERS).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.MONGO_URL).toBeUndefined();
    expect(c.REDIS_KEY_PREFIX).toBe("");
  });

  test("coerces numbers and splits broker lists", () => {
    const c = parseConfig({ PORT: "8080", KAFKA_BROKERS: "127.0.0.1:19092, b:1" });
    expect(c.PORT).toBe(8080);
    expect(c.KAFKA_BROKERS).toEqual(["127.0.0.1:19092", "b:1"]);
  });

  test("empty string counts as unset", () => {
    expect(parseConfig({ REDIS_URL: "" }).REDIS_URL).toBeUndefined();
  });

  test.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["REDIS_URL", "http://x"],
    ["DATABASE_URL", "not a url"],
    ["KAFKA_BROKERS", "localhost"],
    ["JWT_SECRET", "short"],
    ["LOG_LEVEL", "loud"],
    ["LOGIN_IP_REFILL_SEC", "0"],
    ["SIGNUP_IP_BURST", "1.5"],
    ["REDIS_KEY_PREFIX", "has space"],
  ])("bad %s=%s names the key", (key, value) => {
    try {
      parseConfig({ [key]: value });
      throw new Error("expected a ConfigError");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe(key);
      expect((err as Error).message).toStartWith(`config: ${key}: `);
    }
  });

  test("a process with a bad value exits 1 with one line naming the key", async () => {
    const proc = Bun.spawn(["bun", "-e", "import {loadConfig} from './lib/config/index.ts'; loadConfig();"], {
      env: { ...process.env, PORT: "nope" },
      stderr: "pipe",
    });
    const code = await proc.exited;
    const err = await new Response(proc.stderr).text();
    expect(code).toBe(1);
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain("config: PORT:");
  });
});
