import { describe, expect, test } from "bun:test";
import { isValidUsername, normalizeUsername } from "./username.ts";

describe("normalizeUsername", () => {
  test("trims, lowercases and folds compatibility forms", () => {
    expect(normalizeUsername("  Alice ")).toBe("alice");
    expect(normalizeUsername("ＡＬＩＣＥ")).toBe("alice");
    expect(normalizeUsername("Bob_1.x-Y")).toBe("bob_1.x-y");
  });
});

describe("isValidUsername", () => {
  test("accepts 3 to 32 letters, digits, '_', '.', '-' in any script", () => {
    expect(isValidUsername("bob")).toBe(true);
    expect(isValidUsername("김철수")).toBe(true);
    expect(isValidUsername("a".repeat(32))).toBe(true);
  });
  test("rejects too short, too long, spaces and symbols", () => {
    expect(isValidUsername("ab")).toBe(false);
    expect(isValidUsername("a".repeat(33))).toBe(false);
    expect(isValidUsername("a b")).toBe(false);
    expect(isValidUsername("bob!")).toBe(false);
    expect(isValidUsername("bob@x")).toBe(false);
  });
});
