import type { RoomRevocation } from "../../lib/chat/control.ts";
import type { Chat } from "../../lib/chat/index.ts";
import { revokeSubscriptions } from "../../lib/chat/revocation.ts";
import { TokenBucket } from "../../lib/ratelimit/token-bucket.ts";
import type { SimpleSend } from "../../lib/stomp/codec/simple-send.ts";
import type { AppSession, Subscription } from "../../lib/stomp/server/app.ts";
import { RefusedError, StompError } from "../../lib/stomp/server/errors.ts";
import type { SignalHub, SignalSub } from "./signal-hub.ts";

export interface SignalsAppDeps {
  chat: Chat;
  hub: SignalHub;
  /** Each connection's budget for signal SENDs, apart from its chat SEND bucket. */
  rate: { perSec: number; burst: number };
}

/**
 * The ws-node's STOMP handling of `/topic/rooms/<id>/<kind>`: subscriptions (members only) go to the
 * SignalHub, SENDs to the domain (lib/chat/signals), which passes them on to every node. Any kind in
 * the domain's registry works here unchanged.
 */
export class SignalsApp {
  private readonly subs = new WeakMap<AppSession<unknown>, Map<string, SignalSub>>();
  private readonly buckets = new WeakMap<AppSession<unknown>, TokenBucket>();

  constructor(private readonly d: SignalsAppDeps) {}

  async subscribe(
    session: AppSession<unknown>,
    sub: Subscription,
    at: { roomId: string; kind: string },
  ): Promise<() => void> {
    const kind = this.d.chat.signals.kinds.get(at.kind);
    if (!kind) throw new StompError("unknown destination", `cannot subscribe to ${sub.destination}`);
    if (sub.ack !== "auto")
      throw new StompError("invalid header: ack", "signal subscriptions are ack:auto only");
    await this.d.chat.signals.mayWatch(session.principal, at.roomId).catch(() => {
      throw new StompError("forbidden", `not a member of room ${at.roomId}`);
    });
    const ss = this.d.hub.add(session, sub, at.roomId, session.principal.userId, kind);
    const mine = this.subs.get(session) ?? new Map<string, SignalSub>();
    this.subs.set(session, mine);
    mine.set(sub.id, ss);
    // After the RECEIPT: the kind's snapshot from the stores, or what this node knows now.
    return () => {
      const first =
        this.d.chat.signals.snapshot(session.principal, at.roomId, kind.name) ??
        Promise.resolve(this.d.hub.current(ss));
      first.then(
        (body) => {
          if (body && mine.get(sub.id) === ss) this.d.hub.sendTo(ss, body);
        },
        () =>
          session.notify("unavailable", `the ${kind.name} snapshot could not be loaded`, {
            subscription: sub.id,
          }),
      );
    };
  }

  /** True when it was one of this app's subscriptions. */
  unsubscribe(session: AppSession<unknown>, sub: Subscription): boolean {
    const ss = this.subs.get(session)?.get(sub.id);
    if (!ss) return false;
    this.subs.get(session)!.delete(sub.id);
    this.d.hub.remove(ss);
    return true;
  }

  /** Whether this connection watches one of the room's signals (which proves membership until revoked). */
  watches(session: AppSession<unknown>, roomId: string): boolean {
    for (const ss of this.subs.get(session)?.values() ?? []) if (ss.roomId === roomId) return true;
    return false;
  }

  send(
    session: AppSession<unknown>,
    at: { roomId: string; kind: string },
    input: unknown,
    memberKnown: boolean,
  ) {
    if (!this.d.chat.signals.kinds.has(at.kind)) {
      throw new RefusedError("unknown_destination", `cannot send to /topic/rooms/${at.roomId}/${at.kind}`);
    }
    return this.d.chat.signals.send(session.principal, at.roomId, at.kind, input, { memberKnown });
  }

  /**
   * The fast path of a signal SEND (StompApp.sendAtOnce): to a destination this connection subscribes
   * to — that subscription proves membership until it is revoked, so it is the membership check,
   * cached — with one of its kind's legal bodies, a JSON content type if any, within the signal
   * budget. Anything else is false with nothing changed, and the usual path (`send`) answers it.
   */
  sendAtOnce(session: AppSession<unknown>, send: SimpleSend): boolean {
    const mine = this.subs.get(session);
    if (!mine || !this.d.chat.signals.served) return false;
    let ss: SignalSub | undefined;
    for (const s of mine.values()) {
      if (s.sub.destination === send.destination) {
        ss = s;
        break;
      }
    }
    const legal = ss?.kind.legalBodies?.get(send.body);
    if (!ss || !legal) return false;
    if (send.contentType !== undefined && !send.contentType.startsWith("application/json")) return false;
    if (!this.budget(session).tryTake()) return false;
    this.d.chat.signals.passOn(session.principal, ss.roomId, ss.kind, legal.data, legal.json);
    return true;
  }

  /** The bucket a signal SEND spends: the connection's own, never its chat budget. */
  budget(session: AppSession<unknown>): TokenBucket {
    const bucket = this.buckets.get(session) ?? new TokenBucket(this.d.rate.perSec, this.d.rate.burst);
    this.buckets.set(session, bucket);
    return bucket;
  }

  closed(session: AppSession<unknown>): void {
    for (const ss of this.subs.get(session)?.values() ?? []) this.d.hub.remove(ss);
    this.subs.delete(session);
  }

  revoke(revocation: RoomRevocation): void {
    revokeSubscriptions(
      revocation,
      this.d.hub
        .subsOf(revocation.roomId)
        .map((ss) => ({ session: ss.session, subscriptionId: ss.sub.id, userId: ss.userId })),
    );
  }
}
