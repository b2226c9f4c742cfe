import { expect, test } from "bun:test";
import { parseExposition, sumSamples } from "./exposition.ts";

test("parses samples with labels, escapes and comments; sums by label subset", () => {
  const text = [
    "# HELP x_total help",
    "# TYPE x_total counter",
    'x_total{endpoint="ws",command="SEND"} 3',
    'x_total{endpoint="ws",command="ACK"} 2',
    'x_total{endpoint="presence",command="SEND"} 5',
    'y{msg="a \\"quoted\\" value"} 1.5',
    "z 7",
    "",
  ].join("\n");
  const s = parseExposition(text);
  expect(s).toHaveLength(5);
  expect(sumSamples(s, "x_total")).toBe(10);
  expect(sumSamples(s, "x_total", { endpoint: "ws" })).toBe(5);
  expect(sumSamples(s, "x_total", { command: "SEND" })).toBe(8);
  expect(s.find((x) => x.name === "y")!.labels.msg).toBe('a "quoted" value');
  expect(sumSamples(s, "z")).toBe(7);
  expect(sumSamples(s, "missing")).toBe(0);
});
