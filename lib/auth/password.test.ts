import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { parseConfig } from "../config/index.ts";
import { BACKGROUND_NICE } from "../threads/lower-priority.ts";
import { passwordHasherFromConfig } from "./index.ts";
import { createPasswordHasher, PasswordBusyError } from "./password.ts";

/** The argon2id parameters an encoded hash carries: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
function params(hash: string): { m: number; t: number; p: number } {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
  if (!match) throw new Error(`not an argon2id hash: ${hash}`);
  return { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]) };
}

describe("password hasher", () => {
  const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1 });

  test("hashes with argon2id and verifies only the right password", async () => {
    const hash = await hasher.hash("correct horse");
    expect(hash.startsWith("$argon2id$")).toBe(true);
    expect(await hasher.verify("correct horse", hash)).toBe(true);
    expect(await hasher.verify("wrong horse", hash)).toBe(false);
  });

  test("the same password hashes differently each time (salted)", async () => {
    expect(await hasher.hash("same-password")).not.toBe(await hasher.hash("same-password"));
  });

  test("verifyNothing completes without accepting anything", async () => {
    await hasher.verifyNothing("anything");
  });

  test("the cost comes from the settings, OWASP's by default", async () => {
    expect(params(await passwordHasherFromConfig(parseConfig({})).hash("password123"))).toEqual({
      m: 19 * 1024,
      t: 2,
      p: 1,
    });
    const custom = parseConfig({ PASSWORD_MEMORY_KIB: "2048", PASSWORD_TIME_COST: "3" });
    expect(params(await passwordHasherFromConfig(custom).hash("password123"))).toEqual({
      m: 2048,
      t: 3,
      p: 1,
    });
  });

  test("hashes made at another cost (Bun's old defaults) keep verifying", async () => {
    const old = await Bun.password.hash("old password", "argon2id"); // 64 MiB, t=2
    expect(params(old)).toMatchObject({ m: 65536, t: 2 });
    const other = await createPasswordHasher({ memoryCost: 2048, timeCost: 3 }).hash("other cost");
    expect(await hasher.verify("old password", old)).toBe(true);
    expect(await hasher.verify("not it", old)).toBe(false);
    expect(await hasher.verify("other cost", other)).toBe(true);
  });

  test("bad settings stop the config with the key's name", () => {
    expect(() => parseConfig({ PASSWORD_MEMORY_KIB: "512" })).toThrow("PASSWORD_MEMORY_KIB");
    expect(() => parseConfig({ PASSWORD_CONCURRENCY: "0" })).toThrow("PASSWORD_CONCURRENCY");
  });
});

describe("password pool", () => {
  test("past the running and the waiting ones, a hash is refused at once with a retry time", async () => {
    const pool = createPasswordHasher({ memoryCost: 8192, timeCost: 2, concurrency: 1, queueLimit: 2 });
    const accepted = [pool.hash("one password"), pool.hash("two password"), pool.hash("three password")];
    const t0 = performance.now();
    const refused = await pool.verify("four password", "$argon2id$anything").catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(20); // not queued behind the others
    expect(refused).toBeInstanceOf(PasswordBusyError);
    expect((refused as PasswordBusyError).retryAfterSec).toBeGreaterThanOrEqual(1);
    for (const hash of await Promise.all(accepted)) expect(hash.startsWith("$argon2id$")).toBe(true);
    // Once the queue has drained, work is taken again.
    expect(await pool.verify("one password", await pool.hash("one password"))).toBe(true);
  });

  test("a reserved place counts until it is used or released", async () => {
    const pool = createPasswordHasher({ memoryCost: 1024, timeCost: 1, concurrency: 1, queueLimit: 0 });
    const slot = pool.reserve();
    expect(() => pool.reserve()).toThrow(PasswordBusyError);
    expect(await pool.hash("password").catch((e: unknown) => e)).toBeInstanceOf(PasswordBusyError);
    slot.release();
    slot.release(); // idempotent: gives back one place, not two
    const again = pool.reserve();
    expect(() => pool.reserve()).toThrow(PasswordBusyError);
    expect((await again.hash("password")).startsWith("$argon2id$")).toBe(true);
    expect(await pool.verify("password", await pool.hash("password"))).toBe(true);
  });

  test("hashing runs on threads of its own, at a lower CPU priority than the event loop", async () => {
    const niceOf = async (tid: string) => {
      const stat = await Bun.file(`/proc/self/task/${tid}/stat`).text();
      // Field 19 (nice), counted after the command name's closing parenthesis.
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    };
    const tids = () => readdirSync("/proc/self/task");
    const before = new Set(tids());
    const pool = createPasswordHasher({ memoryCost: 1024, timeCost: 1, concurrency: 2 });
    await Promise.all([pool.hash("one password"), pool.hash("two password")]);
    const added = tids().filter((t) => !before.has(t));
    const nices = await Promise.all(added.map(niceOf));
    // One per worker (threads a worker starts itself inherit its priority).
    expect(nices.filter((n) => n === BACKGROUND_NICE).length).toBeGreaterThanOrEqual(2);
    expect(await niceOf(String(process.pid))).toBe(0);
  });
});

test("a process that hashed a password exits on its own: idle password threads hold nothing", async () => {
  const code = `
    import { createPasswordHasher } from "${import.meta.dir}/password.ts";
    const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1 });
    const hash = await hasher.hash("correct horse battery staple");
    console.log(await hasher.verify("correct horse battery staple", hash));
  `;
  const child = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "inherit" });
  const exited = await Promise.race([child.exited, Bun.sleep(10_000).then(() => "still running")]);
  if (exited === "still running") child.kill();
  expect(exited).toBe(0);
  expect((await new Response(child.stdout).text()).trim()).toBe("true");
});
