import { describe, expect, test } from "bun:test";
import { passwordProblem } from "./password-policy.ts";

describe("passwordProblem", () => {
  test("refuses the most common passwords, in any case", () => {
    for (const p of ["password", "12345678", "password123", "qwertyuiop", "Iloveyou1", "PASSWORD1"]) {
      expect(passwordProblem(p)).toContain("most common");
    }
  });

  test("refuses repetitions and one-step runs", () => {
    expect(passwordProblem("aaaaaaaa")).toBeDefined();
    expect(passwordProblem("zzzzzzzzzzzzzz")).toContain("too few different");
    expect(passwordProblem("xyxyxyxyxy")).toContain("too few different");
    expect(passwordProblem("wxyzwxyzwxyz")).toContain("too few different");
    expect(passwordProblem("ghijklmnop")).toBe("is a simple sequence");
    expect(passwordProblem("acegikmoqs")).toBe("is a simple sequence");
  });

  test("refuses a password containing the username", () => {
    expect(passwordProblem("mina-is-great-42", "mina")).toBe("must not contain your username");
    expect(passwordProblem("MINA-is-great-42", "mina")).toBe("must not contain your username");
  });

  test("accepts ordinary strong passwords and passphrases", () => {
    for (const p of [
      "quiet walrus drinks 4 teas",
      "correct horse battery",
      "Tr0ub4dor&3x",
      "한국어 비밀번호 123",
    ]) {
      expect(passwordProblem(p, "mina")).toBeUndefined();
    }
  });
});
