import { describe, expect, test } from "bun:test";
import { isPlainTextBody, sendBodySchema } from "./message.ts";

describe("isPlainTextBody, the SEND body's check without zod", () => {
  const max = 10;
  const schema = sendBodySchema(max);
  const inherited = Object.create({ extra: 1 }) as Record<string, unknown>;
  inherited.text = "hi";
  const bodies: [string, unknown][] = [
    ["a message", { text: "hello" }],
    ["exactly the limit", { text: "x".repeat(max) }],
    ["one over the limit", { text: "x".repeat(max + 1) }],
    ["blank", { text: "   " }],
    ["blank with line ends and a no-break space", { text: "\n\t\u00a0\r" }],
    ["blank with a BOM and an ideographic space", { text: "\ufeff\u3000" }],
    ["empty", { text: "" }],
    ["text and another key", { text: "hi", other: 1 }],
    ["another key only", { other: "hi" }],
    ["no keys", {}],
    ["a number", { text: 5 }],
    ["null text", { text: null }],
    ["an array", ["hi"]],
    ["null", null],
    ["a string", "hi"],
    ["an inherited enumerable key", inherited],
  ];

  test.each(bodies)("agrees with the schema: %s", (_name, body) => {
    expect(isPlainTextBody(body, max)).toBe(schema.safeParse(body).success);
  });
});
