import { describe, expect, test } from "bun:test";
import { bearerToken } from "./bearer.ts";

describe("bearerToken", () => {
  test("takes the token from a Bearer header, case-insensitively", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer abc")).toBe("abc");
  });
  test("null for absent or other schemes", () => {
    expect(bearerToken(null)).toBeNull();
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeNull();
    expect(bearerToken("Bearer")).toBeNull();
    expect(bearerToken("Bearer a b")).toBeNull();
  });
});
