import { describe, expect, test } from "bun:test";
import { type FanoutTrial, fanoutSection, roundRatios } from "./report.ts";

/** A trial of 1 s that delivered `delivered` copies for `serverCpuMs` of the server's CPU. */
const trial = (delivered: number, serverCpuMs: number): FanoutTrial => ({
  sent: 1,
  acked: 1,
  delivered,
  expected: delivered,
  ms: 1_000,
  bytes: delivered * 500,
  clientCpu: 0,
  errors: 0,
  serverCpuMs,
});

const settings = {
  idleConnections: 1,
  fanoutMembers: 1_000,
  fanoutSenders: 4,
  fanoutWindow: 128,
  fanoutMs: 2_000,
  fanoutTrials: 3,
  chatSizes: [],
  chatRate: 1,
  chatMs: 1,
  chatWarmupMs: 1,
  chatTrials: 1,
};

describe("peers W1: ChatTalk against the bare publish", () => {
  test("round by round, each trial against the bare server's trial of the same round", () => {
    const ours = [trial(2_000_000, 1_000), trial(1_000_000, 400)];
    const bare = [trial(2_500_000, 800), trial(1_000_000, 500)];
    const r = roundRatios(ours, bare);
    expect(r.rate).toEqual([0.8, 1]);
    // CPU per copy: bare 0.32 µs against ours 0.5 µs, then bare 0.5 against ours 0.4.
    expect(r.cpu[0]).toBeCloseTo(0.64, 10);
    expect(r.cpu[1]).toBeCloseTo(1.25, 10);
  });

  test("the verdict gives the medians and the rounds' spread", () => {
    const lines = fanoutSection(
      [
        { peer: "ChatTalk", trials: [trial(2_000_000, 1_000), trial(1_800_000, 900), trial(2_200_000, 880)] },
        {
          peer: "bare Bun",
          trials: [trial(2_500_000, 1_000), trial(2_000_000, 900), trial(2_200_000, 1_000)],
        },
      ],
      settings,
    );
    const verdict = lines.find((l) => l.startsWith("**ChatTalk over the wire"));
    // Medians: ours 2.0M/s at 0.5 µs, bare 2.2M/s at 0.45 µs; rounds 0.80, 0.90, 1.00 and 0.80, 0.90, 1.14.
    expect(verdict).toBe(
      "**ChatTalk over the wire: 0.91× the bare publish by deliveries/s, 0.90× by server CPU per delivery** " +
        "(target ≥ 0.9×; round by round 0.80–1.00 and 0.80–1.14).",
    );
  });
});
