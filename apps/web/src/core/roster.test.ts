import { describe, expect, test } from "bun:test";
import type { ChatMessage } from "./api.ts";
import { Roster } from "./roster.ts";

const u = (name: string) => ({ id: name, username: name });
const line = (type: "join" | "leave", who: string): ChatMessage => ({
  id: `${type}-${who}`,
  roomId: "r",
  seq: 1,
  type,
  sender: u(who),
  text: `${who} ${type === "join" ? "joined" : "left"}`,
  sentAt: new Date().toISOString(),
});

describe("roster", () => {
  test("who is here comes from presence; members from the snapshot and the room's join/leave lines", () => {
    const r = new Roster();
    expect(
      r.presence({
        type: "snapshot",
        version: 3,
        online: [u("mina")],
        members: [
          { ...u("mina"), online: true },
          { ...u("joon"), online: false },
        ],
      }),
    ).toBe("ok");
    expect(r.state.get().members.map((m) => m.username)).toEqual(["joon", "mina"]);
    expect([...r.state.get().here]).toEqual(["mina"]);

    r.presence({ type: "diff", version: 4, joined: [u("joon")], left: [] });
    expect([...r.state.get().here].sort()).toEqual(["joon", "mina"]);

    // Joon leaves the room: gone from both lists, not shown as "away".
    r.membership(line("leave", "joon"));
    expect(r.state.get().members.map((m) => m.username)).toEqual(["mina"]);
    expect([...r.state.get().here]).toEqual(["mina"]);
    r.membership(line("join", "sora"));
    expect(r.state.get().members.map((m) => m.username)).toEqual(["mina", "sora"]);
  });

  test("someone online but not a member (left a moment ago) is not listed as here", () => {
    const r = new Roster();
    r.presence({
      type: "snapshot",
      version: 1,
      online: [u("a"), u("gone")],
      members: [{ ...u("a"), online: true }],
    });
    expect([...r.state.get().here]).toEqual(["a"]);
  });

  test("a missed diff asks for a fresh snapshot; degraded keeps the members", () => {
    const r = new Roster();
    r.presence({ type: "snapshot", version: 1, online: [], members: [{ ...u("a"), online: false }] });
    expect(r.presence({ type: "diff", version: 3, joined: [u("a")], left: [] })).toBe("resubscribe");
    expect(r.state.get().here.size).toBe(0);
    r.presence({ type: "degraded" });
    expect(r.state.get()).toMatchObject({ degraded: true, loaded: true });
    expect(r.state.get().members).toHaveLength(1);
  });
});
