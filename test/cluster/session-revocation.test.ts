import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { wsNodes } from "../../scripts/cluster.d/state.ts";
import { signup, startTestCluster, type TestCluster } from "../../testkit/cluster.ts";
import { skipWithoutCluster } from "../../testkit/cluster-env.ts";
import { RawStomp } from "../../testkit/raw-stomp.ts";
import { skipWithout } from "../../testkit/services.ts";

/**
 * Issue 13, row 6, across three ws-node replicas and the presence-node on real Kafka, Postgres and
 * Redis behind nginx: a logout on the http-api ends the login's sessions on every replica (the
 * revocation travels on the bus's control topic), and its token connects to none of them again.
 */
const skip = skipWithoutCluster() || skipWithout("nginx");

describe.skipIf(skip)("session revocation across replicas", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster(3);
  }, 120_000);
  afterAll(async () => {
    await c?.destroy();
  }, 60_000);

  test("logout closes the login's sessions on all three replicas and the presence-node", async () => {
    const user = await signup(c, "revoked");
    const bystander = await signup(c, "bystander");
    const urls = [
      ...wsNodes(c.state()).map((p) => `${p.url.replace("http:", "ws:")}/ws`),
      `${c
        .state()
        .processes.find((p) => p.kind === "presence-node")!
        .url.replace("http:", "ws:")}/presence`,
    ];
    expect(urls).toHaveLength(4);
    const sessions = await Promise.all(urls.map((u) => RawStomp.connect(u, user.token)));
    const others = await Promise.all(urls.map((u) => RawStomp.connect(u, bystander.token)));

    const res = await fetch(c.url("/api/auth/logout"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: user.refreshToken }),
    });
    expect(res.status).toBe(204);
    for (const s of sessions) {
      const f = await s.next((x) => x.command === "ERROR", 15_000);
      expect(f.headers["x-error-code"]).toBe("session_revoked");
      expect((await s.closed).code).toBe(4003);
    }
    for (const u of urls) {
      const refused = await RawStomp.connect(u, user.token).catch((e: Error) => e.message);
      expect(refused).toContain("authentication failed");
    }
    for (const o of others) {
      o.sendFrame("SUBSCRIBE", { id: "e", destination: "/user/queue/errors", receipt: "alive" });
      expect((await o.next((x) => x.command === "RECEIPT")).headers["receipt-id"]).toBe("alive");
      o.close();
    }
  }, 60_000);
});
