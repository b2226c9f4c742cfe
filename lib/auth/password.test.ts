import { describe, expect, test } from "bun:test";
import { createPasswordHasher } from "./password.ts";

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
});
