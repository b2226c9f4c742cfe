import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseExposition, sumSamples } from "../../lib/metrics/index.ts";
import {
  type AttackResult,
  type AttackStage,
  HealthyChat,
  probeHealth,
  rssOf,
  startAttacker,
  startAttackStage,
} from "../../testkit/replay-attack.ts";

/**
 * Issue 13, row 2: one member asks for a long history many times over, on one connection and on ten,
 * reading and discarding. Replays in progress are capped per connection (4) and per user (8), the
 * rest refused with a notice; backlog reads run at most REPLAY_CONCURRENCY (4) at once; so the node's
 * memory stays bounded, /healthz answers and another member's messages keep flowing. The latency
 * figures are in docs/benchmarks.md (`bun run bench attacks-replay`), not asserted here.
 */
const HISTORY = 50_000;
/** A generous bound on the node's RSS growth under the attack; it measures well under half of this. */
const RSS_GROWTH_BOUND = 192 * 1024 * 1024;

let stage: AttackStage;
beforeAll(async () => {
  stage = await startAttackStage(HISTORY);
}, 60_000);
afterAll(() => stage?.stop());

async function runningReads(): Promise<number> {
  const text = await fetch(`${stage.node.url}/metrics`).then((r) => r.text());
  return sumSamples(parseExposition(text), "chattalk_replay_reads", { state: "running" });
}

test("replay amplification: bounded memory, /healthz answers, other members' messages flow", async () => {
  const pid = stage.node.proc.pid;
  const chat = await HealthyChat.open(stage);
  chat.start(100);
  await Bun.sleep(500);
  const rssBefore = rssOf(pid);
  let rssPeak = rssBefore;
  let readsPeak = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssOf(pid));
    void runningReads().then((n) => {
      readsPeak = Math.max(readsPeak, n);
    });
  }, 100);
  const health = probeHealth(stage.node.url, 200);

  // Stopped on every path: a sampler left running after a failure would fail the tests after it.
  const stopProbes = async () => {
    clearInterval(sampler);
    return [await health.stop(), await chat.stop()] as const;
  };
  let attack: AttackResult;
  try {
    // One connection with 60 SUBSCRIBEs, and nine more of the same member with 6 each.
    const attacker = await startAttacker(stage, [60, 6, 6, 6, 6, 6, 6, 6, 6, 6]);
    await Bun.sleep(8_000);
    attack = await attacker.stop();
  } catch (err) {
    await stopProbes();
    throw err;
  }
  const [healthSamples, delivered] = await stopProbes();

  // The attack ran (replays sent data), and all but the 8 replays a member may run were refused.
  expect(attack.bytes).toBeGreaterThan(1_000_000);
  expect(attack.refusals).toBe(60 + 9 * 6 - 8);
  expect(attack.errors).toBe(0);
  expect(readsPeak).toBeLessThanOrEqual(4);
  // Everyone else was served: every healthy message delivered and receipted, every probe answered.
  expect(chat.sent).toBeGreaterThan(50);
  expect(delivered).toBe(chat.sent);
  expect(chat.receipts).toBe(chat.sent);
  expect(healthSamples.length).toBeGreaterThan(10);
  expect(healthSamples.every(Number.isFinite)).toBe(true);
  console.log(
    `replay attack: RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB -> peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB`,
  );
  expect(rssPeak - rssBefore).toBeLessThan(RSS_GROWTH_BOUND);
}, 60_000);
