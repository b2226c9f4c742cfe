import { describe, expect, test } from "bun:test";
import { isValidUsername, normalizeUsername, usernameSkeleton } from "./username.ts";

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

describe("usernameSkeleton", () => {
  const skeleton = (raw: string) => usernameSkeleton(normalizeUsername(raw));
  test("look-alikes share a skeleton: other scripts' letters, digits for letters, accents", () => {
    for (const lookalike of ["\u0430lice", "a1ice", "alic\u00e9", "ALICE", "\uff41lice"]) {
      expect(skeleton(lookalike)).toBe(skeleton("alice"));
    }
    expect(skeleton("b\u043eb")).toBe(skeleton("bob"));
    expect(skeleton("rnary")).toBe(skeleton("mary"));
    expect(skeleton("user0")).toBe(skeleton("usero"));
  });
  test("different names keep different skeletons, in any script", () => {
    expect(skeleton("alice")).not.toBe(skeleton("alicia"));
    expect(skeleton("bob")).not.toBe(skeleton("rob"));
    expect(skeleton("김철수")).not.toBe(skeleton("김철민"));
    expect(skeleton("김철수")).toBe(skeleton("김철수"));
  });
});
