import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { STOMP_REFUSAL_CODES } from "../../../../lib/chat/errors.ts";
import { ApiError, describeError, describeSendRefusal } from "./errors.ts";

/** Every error code the server's source can produce, read from the source itself. */
async function serverCodes(): Promise<{ http: Set<string>; stomp: Set<string> }> {
  const http = new Set<string>();
  const stomp = new Set<string>();
  const root = new URL("../../../../", import.meta.url).pathname;
  for await (const file of new Glob("**/*.ts").scan(root)) {
    if (!/^(apps\/http-api|apps\/ws-node|lib)\//.test(file) || file.endsWith(".test.ts")) continue;
    const src = await Bun.file(root + file).text();
    for (const m of src.matchAll(/new ApiError\(\s*\d+,\s*"([a-z_]+)"/g)) http.add(m[1]!);
    for (const m of src.matchAll(/ConflictError\("([a-z_]+)"/g)) http.add(m[1]!);
    for (const m of src.matchAll(/notFound\("([a-z_]+)"\)/g)) http.add(`${m[1]}_not_found`);
    for (const m of src.matchAll(/jsonError\(\s*\d+,\s*"([a-z_]+)"/g)) http.add(m[1]!);
    for (const m of src.matchAll(/ChatError\(\s*"[a-z_]+",\s*"([a-z_]+)"/g)) http.add(m[1]!);
    for (const m of src.matchAll(/ForbiddenError\("([a-z_]+)"/g)) http.add(m[1]!);
    for (const m of src.matchAll(/RefusedError\(\s*"([a-z_]+)"/g)) stomp.add(m[1]!);
  }
  // The chat domain's refusals reach STOMP clients through one mapping.
  for (const code of Object.values(STOMP_REFUSAL_CODES)) stomp.add(code);
  for (const prefix of ["token", "refresh_token"])
    for (const reason of ["missing", "expired", "invalid"]) http.add(`${prefix}_${reason}`);
  for (const code of ["payload_too_large", "unsupported_media_type", "bad_request"]) http.add(code);
  return { http, stomp };
}

describe("error messages", () => {
  test("every HTTP error code the server has gets its own sentence, without the code in it", async () => {
    const { http } = await serverCodes();
    expect(http.size).toBeGreaterThan(15);
    const generic = describeError(new ApiError(400, "no_such_code_anywhere", "x"));
    for (const code of http) {
      const text = describeError(new ApiError(400, code, "raw server text"));
      expect({ code, text }).not.toEqual({ code, text: generic });
      expect(text).not.toContain(code);
      expect(text).not.toContain("raw server text");
    }
  });

  test("every STOMP refusal code gets a sentence", async () => {
    const { stomp } = await serverCodes();
    expect(stomp.size).toBeGreaterThanOrEqual(5);
    const generic = describeSendRefusal("no_such_code");
    for (const code of stomp)
      expect({ code, text: describeSendRefusal(code) }).not.toEqual({ code, text: generic });
  });

  test("an unknown code or a crash still reads as a sentence", () => {
    expect(describeError(new ApiError(502, "weird", "upstream said x"))).toBe(
      "Something went wrong on our side. Try again.",
    );
    expect(describeError(new TypeError("x is undefined"))).not.toContain("undefined");
    expect(describeError(new ApiError(0, "network", ""))).toContain("Can't reach ChatTalk");
  });
});
