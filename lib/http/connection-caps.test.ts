import { expect, test } from "bun:test";
import { ConnectionCounter } from "./connection-caps.ts";

test("caps what is open per address and in total; a release frees the slot; unknown releases are ignored", () => {
  const c = new ConnectionCounter({ total: 3, perIp: 2 });
  expect(c.tryAcquire("a")).toBeUndefined();
  expect(c.tryAcquire("a")).toBeUndefined();
  expect(c.tryAcquire("a")).toBe("per-ip");
  expect(c.tryAcquire("b")).toBeUndefined();
  expect(c.tryAcquire("c")).toBe("total");
  c.release("a");
  c.release("nobody");
  expect(c.size).toBe(2);
  expect(c.tryAcquire("c")).toBeUndefined();
  expect(c.refusal("a")).toBe("total");
});
