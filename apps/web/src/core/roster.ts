import type { ChatMessage, UserRef } from "./api.ts";
import { Store } from "./store.ts";

export interface RosterState {
  /** Current members, by name. */
  members: UserRef[];
  /** Members with the room open right now (on any device). */
  here: ReadonlySet<string>;
  /** The presence service cannot see who is here (its store is down); members are still listed. */
  degraded: boolean;
  loaded: boolean;
}

type PresenceBody =
  | { type: "snapshot"; version: number; online: UserRef[]; members?: (UserRef & { online: boolean })[] }
  | { type: "diff"; version: number; joined: UserRef[]; left: UserRef[] }
  | { type: "degraded" };

const byName = (a: UserRef, b: UserRef) => a.username.localeCompare(b.username);

/**
 * Who belongs to the open room and who is in it now. Presence (snapshot, then diffs with
 * consecutive versions) says who is here; the room's own join and leave lines keep the member list
 * current, so someone who left is gone from it rather than shown as "away".
 */
export class Roster {
  readonly state = new Store<RosterState>({ members: [], here: new Set(), degraded: false, loaded: false });
  private version = 0;
  private online = new Map<string, UserRef>();
  private members = new Map<string, UserRef>();

  /** Applies a presence body; "resubscribe" when a diff was missed (then a fresh snapshot is needed). */
  presence(body: PresenceBody): "ok" | "resubscribe" {
    if (body.type === "degraded") {
      this.state.update((s) => ({ ...s, degraded: true }));
      return "ok";
    }
    if (body.type === "snapshot") {
      this.version = body.version;
      this.online = new Map(body.online.map((u) => [u.id, u]));
      if (body.members)
        this.members = new Map(body.members.map((u) => [u.id, { id: u.id, username: u.username }]));
      else for (const u of body.online) this.members.set(u.id, u);
    } else {
      if (body.version !== this.version + 1) return "resubscribe";
      this.version = body.version;
      for (const u of body.joined) this.online.set(u.id, u);
      for (const u of body.left) this.online.delete(u.id);
    }
    this.publish(false);
    return "ok";
  }

  /**
   * A live join or leave line of the room's stream (not replayed or paged ones: those are older
   * than the snapshot and would bring back people who have left since).
   */
  membership(m: ChatMessage): void {
    if (m.type === "join") this.members.set(m.sender.id, m.sender);
    else if (m.type === "leave") {
      this.members.delete(m.sender.id);
      this.online.delete(m.sender.id);
    } else return;
    if (this.state.get().loaded) this.publish(this.state.get().degraded);
  }

  private publish(degraded: boolean): void {
    const members = [...this.members.values()].sort(byName);
    const here = new Set([...this.online.keys()].filter((id) => this.members.has(id)));
    this.state.set({ members, here, degraded, loaded: true });
  }
}

export type { PresenceBody };
