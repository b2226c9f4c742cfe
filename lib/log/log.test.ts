import { expect, test } from "bun:test";
import { errorFields } from "./index.ts";

test("errorFields keeps an error's type, message and stack; anything else becomes text", () => {
  const thrown = (() => {
    try {
      JSON.parse("{");
    } catch (err) {
      return err;
    }
  })();
  const fields = errorFields(thrown);
  expect(fields.err).toStartWith("SyntaxError: ");
  expect(fields.stack).toContain("log.test.ts");
  expect(errorFields("plain")).toEqual({ err: "plain" });
  expect(JSON.parse(JSON.stringify(errorFields(new Error("x"))))).toHaveProperty("stack");
});
