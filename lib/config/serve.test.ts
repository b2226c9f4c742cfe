import { describe, expect, test } from "bun:test";
import { parseConfig } from "./index.ts";
import { operatorMounts } from "./serve.ts";

const metrics = { prefix: "/metrics", handle: () => new Response("chattalk_up 1\n") };

describe("operatorMounts", () => {
  test("without METRICS_PORT: on the app port, for direct local requests only", () => {
    const placed = operatorMounts(parseConfig({}), [metrics]);
    expect(placed.listener).toBeUndefined();
    expect(placed.appMounts.map((m) => m.prefix)).toEqual(["/metrics"]);
    expect(placed.appMounts[0]).not.toBe(metrics); // wrapped by localOnly
  });

  test("with METRICS_PORT: its own listener on METRICS_HOST, nothing on the app port", async () => {
    const placed = operatorMounts(parseConfig({ METRICS_PORT: "0" }), [metrics]);
    try {
      expect(placed.appMounts).toEqual([]);
      expect(placed.listener!.hostname).toBe("127.0.0.1");
      const res = await fetch(`http://127.0.0.1:${placed.listener!.port}/metrics`);
      expect(await res.text()).toBe("chattalk_up 1\n");
    } finally {
      placed.listener?.stop(true);
    }
  });
});
