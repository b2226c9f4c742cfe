import { afterAll, beforeAll, expect, test } from "bun:test";
import type { UserRef } from "../../lib/chat/message.ts";
import type { PresenceReporter, PresenceView, RosterEvent } from "../../lib/presence/types.ts";
import { eventually } from "../eventually.ts";

/**
 * Opens handles onto one shared presence store. Each reporter() is a separate messaging node, each
 * view() a separate presence-node replica (the in-memory adapter returns one object for all).
 */
export interface PresenceFixture {
  reporter(): Promise<PresenceReporter>;
  view(): Promise<PresenceView>;
  teardown?(): Promise<void>;
}

/**
 * One watcher: keeps every event, rebuilds the roster from them as a client would, and records a
 * broken rule (diff before snapshot, a version gap) instead of hiding it.
 */
export class RosterRecorder {
  readonly events: RosterEvent[] = [];
  readonly violations: string[] = [];
  online = new Map<string, UserRef>();
  version: number | undefined;
  degraded = false;
  readonly handler = (e: RosterEvent): void => {
    this.events.push(e);
    if (e.type === "snapshot") {
      this.version = e.version;
      this.online = new Map(e.online.map((u) => [u.id, u]));
      this.degraded = false;
    } else if (e.type === "diff") {
      if (this.version === undefined) this.violations.push(`diff v${e.version} before any snapshot`);
      else if (e.version !== this.version + 1)
        this.violations.push(`diff v${e.version} after v${this.version}`);
      for (const u of e.joined) this.online.set(u.id, u);
      for (const u of e.left) this.online.delete(u.id);
      this.version = e.version;
    } else {
      this.degraded = true;
    }
  };

  onlineIds(): string[] {
    return [...this.online.keys()].sort();
  }

  diffs(): Extract<RosterEvent, { type: "diff" }>[] {
    return this.events.filter((e) => e.type === "diff");
  }

  /** Waits until the roster is exactly these users. */
  async until(ids: string[], what: string, timeoutMs?: number): Promise<void> {
    const want = [...ids].sort().join(",");
    await eventually(() => this.onlineIds().join(",") === want, `${what}: online = [${want}]`, timeoutMs);
  }
}

const user = (name: string): UserRef => ({ id: `u-${name}`, username: name });

/** The behaviour every presence adapter must have. Call inside a describe(). */
export function presenceContract(fixture: PresenceFixture): void {
  const run = crypto.randomUUID().slice(0, 8);
  const room = (name: string) => `${run}-${name}`;
  let nodeA: PresenceReporter;
  let nodeB: PresenceReporter;
  let view1: PresenceView;
  let view2: PresenceView;

  beforeAll(async () => {
    nodeA = await fixture.reporter();
    nodeB = await fixture.reporter();
    view1 = await fixture.view();
    view2 = await fixture.view();
  });
  afterAll(async () => {
    await nodeA?.stop();
    await nodeB?.stop();
    await view1?.close();
    await view2?.close();
    await fixture.teardown?.();
  });

  test("a watcher gets a snapshot first, then a diff per join and leave", async () => {
    const r = room("basic");
    const w = new RosterRecorder();
    const unwatch = await view1.watch(r, w.handler);
    expect(w.events[0]?.type).toBe("snapshot");
    expect(w.onlineIds()).toEqual([]);
    nodeA.add(r, user("alice"), "c1");
    await w.until(["u-alice"], "alice joins");
    nodeB.add(r, user("bob"), "c2");
    await w.until(["u-alice", "u-bob"], "bob joins on another node");
    nodeA.remove(r, "u-alice", "c1");
    await w.until(["u-bob"], "alice leaves");
    expect(w.diffs().flatMap((d) => d.left.map((u) => u.username))).toEqual(["alice"]);
    expect(w.violations).toEqual([]);
    unwatch();
  });

  test("a second tab keeps the user online until both are closed", async () => {
    const r = room("tabs");
    const w = new RosterRecorder();
    const unwatch = await view1.watch(r, w.handler);
    nodeA.add(r, user("carol"), "tab1");
    await w.until(["u-carol"], "carol's first tab");
    // Changes from one node apply in order; from two nodes they may not. A marker on the same node
    // after each step shows the step has been applied.
    nodeB.add(r, user("carol"), "tab2");
    nodeB.add(r, user("dave"), "c3");
    await w.until(["u-carol", "u-dave"], "carol's second tab, then dave");
    nodeA.remove(r, "u-carol", "tab1");
    nodeA.add(r, user("eve"), "c3b");
    await w.until(["u-carol", "u-dave", "u-eve"], "eve joins; carol still online");
    expect(w.diffs().some((d) => d.left.length > 0)).toBe(false);
    nodeB.remove(r, "u-carol", "tab2");
    await w.until(["u-dave", "u-eve"], "carol's last tab closed");
    expect(w.violations).toEqual([]);
    unwatch();
  });

  test("a node stopping takes its users offline (disconnect of all its connections)", async () => {
    const r = room("stop");
    const extra = await fixture.reporter();
    const w = new RosterRecorder();
    const unwatch = await view1.watch(r, w.handler);
    extra.add(r, user("erin"), "c4");
    nodeA.add(r, user("frank"), "c5");
    await w.until(["u-erin", "u-frank"], "both online");
    await extra.stop();
    await w.until(["u-frank"], "erin's node stopped");
    expect(w.violations).toEqual([]);
    unwatch();
  });

  test("a late watcher's snapshot lines up with the diffs that follow", async () => {
    const r = room("late");
    const early = new RosterRecorder();
    const unwatchEarly = await view1.watch(r, early.handler);
    nodeA.add(r, user("gina"), "c6");
    await early.until(["u-gina"], "gina joins");
    const late = new RosterRecorder();
    const unwatchLate = await view2.watch(r, late.handler);
    expect(late.events[0]?.type).toBe("snapshot");
    expect(late.onlineIds()).toEqual(["u-gina"]);
    nodeB.add(r, user("hank"), "c7");
    await late.until(["u-gina", "u-hank"], "hank joins");
    // Each view relays the diff on its own: wait for the early one too before comparing versions.
    await early.until(["u-gina", "u-hank"], "hank joins, for the early watcher");
    expect(late.violations).toEqual([]);
    expect(late.version).toBe(early.version!);
    unwatchEarly();
    unwatchLate();
  });

  test("churn is coalesced, and two views deliver the same versions with the same changes", async () => {
    const r = room("churn");
    const w1 = new RosterRecorder();
    const w2 = new RosterRecorder();
    const unwatch1 = await view1.watch(r, w1.handler);
    const unwatch2 = await view2.watch(r, w2.handler);
    const names = Array.from({ length: 40 }, (_, i) => `user${i}`);
    for (const [i, n] of names.entries()) (i % 2 ? nodeA : nodeB).add(r, user(n), `churn-${n}`);
    for (const n of names.slice(0, 10))
      (names.indexOf(n) % 2 ? nodeA : nodeB).remove(r, `u-${n}`, `churn-${n}`);
    const expected = names.slice(10).map((n) => `u-${n}`);
    await w1.until(expected, "view 1 after churn");
    await w2.until(expected, "view 2 after churn");
    // 50 changes made back to back: fewer diffs than changes.
    expect(w1.diffs().length).toBeLessThan(50);
    const seq = (rec: RosterRecorder) =>
      rec
        .diffs()
        .map(
          (d) => `${d.version}:${d.joined.map((u) => u.id).join("+")}/${d.left.map((u) => u.id).join("+")}`,
        );
    const from = Math.max(w1.diffs()[0]?.version ?? 0, w2.diffs()[0]?.version ?? 0);
    const tail = (rec: RosterRecorder) => seq(rec).filter((s) => Number(s.split(":")[0]) >= from);
    expect(tail(w1)).toEqual(tail(w2));
    expect(w1.violations).toEqual([]);
    expect(w2.violations).toEqual([]);
    unwatch1();
    unwatch2();
  });

  test("add and remove never throw, and nested adds for one connection count once", async () => {
    const r = room("nested");
    const w = new RosterRecorder();
    const unwatch = await view1.watch(r, w.handler);
    nodeA.add(r, user("ivy"), "c8");
    nodeA.add(r, user("ivy"), "c8");
    nodeA.remove(r, "u-ivy", "c8");
    nodeA.remove(r, "u-nobody", "c9");
    nodeA.add(r, user("jack"), "c10");
    await w.until(["u-ivy", "u-jack"], "ivy still held by her second subscription");
    nodeA.remove(r, "u-ivy", "c8");
    await w.until(["u-jack"], "ivy's last subscription ended");
    expect(w.violations).toEqual([]);
    unwatch();
  });
}
