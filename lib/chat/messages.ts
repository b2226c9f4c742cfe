import type { Published } from "../delivery/publisher.ts";
import { type Actor, type ChatContext, refOf } from "./context.ts";
import { ChatError } from "./errors.ts";
import {
  type ChatMessage,
  CLIENT_MSG_ID,
  isPlainTextBody,
  type LoggedMessage,
  type MessageDraft,
  newDraft,
  sendBodySchema,
} from "./message.ts";
import type { SendOrder } from "./send-order.ts";

/** Where a page of history starts: after a seq (forward), before one (backward), or the newest. */
export interface HistoryQuery {
  after?: number;
  before?: number;
  limit: number;
}

/**
 * `memberKnown`: the caller has already proved membership (a live subscription does, until a control
 * event revokes it), so the store is not asked again. `clientMsgId`: the SEND's x-client-msg-id, which
 * names the message across retries (stored once per id).
 */
export interface SendOptions {
  memberKnown?: boolean;
  clientMsgId?: string;
  /** The sender's order: with several messages under way at once, they are appended as they arrived. */
  order?: SendOrder;
}

/**
 * Messages: accepting what members send, editing and deleting them, and reading a room's history.
 * Edits and deletes are events in the room's log like any other (they get a seq; replay and history
 * carry them) and the backlog applies them to the stored original, so a client catching up and a
 * client that was live end with the same view.
 */
export class Messages {
  private readonly bodySchema;

  constructor(
    private readonly c: ChatContext,
    /** Told of each accepted message (a message ends its sender's typing). */
    private readonly sent: (roomId: string, userId: string) => void = () => {},
  ) {
    this.bodySchema = sendBodySchema(c.settings.maxMessageChars);
  }

  /**
   * Accepts a member's message (`input` is the parsed SEND body) and resolves once the room's log holds
   * it durably: its seq, and whether it was a retry of a message already stored (same client message id).
   */
  async accept(actor: Actor, roomId: string, input: unknown, opts: SendOptions = {}): Promise<Published> {
    const place = opts.order?.next(); // taken now, as the message arrives
    let sending: Promise<Published>;
    try {
      const draft = await this.draft(actor, roomId, input, opts);
      const turn = place?.turn();
      if (turn) await turn;
      sending = this.c.send(draft); // the append is queued here, before the next place's turn
    } finally {
      place?.done();
    }
    const published = await sending;
    this.sent(roomId, actor.userId);
    return published;
  }

  /**
   * Checks a message as accept would, without sending it: a SEND entering a transaction is refused at
   * once rather than held until COMMIT.
   */
  async check(actor: Actor, roomId: string, input: unknown, opts: SendOptions = {}): Promise<void> {
    await this.draft(actor, roomId, input, opts);
  }

  private async draft(
    actor: Actor,
    roomId: string,
    input: unknown,
    opts: SendOptions,
  ): Promise<MessageDraft> {
    const text = this.text(input);
    if (opts.clientMsgId !== undefined && !CLIENT_MSG_ID.test(opts.clientMsgId)) {
      throw new ChatError(
        "invalid",
        "invalid_message",
        "x-client-msg-id must be 1 to 64 letters, digits or '_', '.', ':', '-'",
      );
    }
    const { rooms } = this.c.ports;
    if (!opts.memberKnown && !(await this.c.fromStore(rooms.isMember(roomId, actor.userId), "membership"))) {
      throw new ChatError("forbidden", "not_member", `not a member of room ${roomId}`);
    }
    const extra = opts.clientMsgId === undefined ? {} : { clientMsgId: opts.clientMsgId };
    return newDraft(roomId, "message", refOf(actor), text, extra);
  }

  /** The sender changes the text of their message: an `edit` event naming it. */
  async edit(actor: Actor, roomId: string, seq: number, input: unknown): Promise<LoggedMessage> {
    const text = this.text(input);
    await this.c.memberRoom(roomId, actor.userId);
    const target = await this.target(roomId, seq);
    if (target.sender.id !== actor.userId) {
      throw new ChatError("forbidden", "not_sender", "only the sender can edit a message");
    }
    return this.c.append(
      newDraft(roomId, "edit", refOf(actor), text, { target: { id: target.id, seq: target.seq } }),
    );
  }

  /** The sender, or the room's owner (not in DMs), deletes a message: a `delete` event naming it. */
  async delete(actor: Actor, roomId: string, seq: number): Promise<LoggedMessage> {
    const room = await this.c.memberRoom(roomId, actor.userId);
    const target = await this.target(roomId, seq);
    const ownerMay = room.kind === "group" && room.ownerId === actor.userId;
    if (target.sender.id !== actor.userId && !ownerMay) {
      throw new ChatError(
        "forbidden",
        "not_sender",
        "only the sender or the room's owner can delete a message",
      );
    }
    return this.c.append(
      newDraft(roomId, "delete", refOf(actor), "", { target: { id: target.id, seq: target.seq } }),
    );
  }

  /** A page of the room's history, oldest first; members only. */
  async history(actor: Actor, roomId: string, q: HistoryQuery): Promise<ChatMessage[]> {
    const room = await this.c.memberRoom(roomId, actor.userId);
    const { backlog } = this.c.ports;
    return q.after !== undefined
      ? backlog.after(room.id, q.after, q.limit)
      : backlog.before(room.id, q.before ?? Number.MAX_SAFE_INTEGER, q.limit);
  }

  private text(input: unknown): string {
    if (isPlainTextBody(input, this.c.settings.maxMessageChars)) return input.text;
    const parsed = this.bodySchema.safeParse(input);
    if (!parsed.success) {
      throw new ChatError("invalid", "invalid_message", parsed.error.issues.map((i) => i.message).join("; "));
    }
    return parsed.data.text;
  }

  /**
   * The message at `seq`, as stored. One sent a moment ago may still be on its way from the bus to the
   * backlog: a seq beyond the backlog's end is waited for (bounded); one within it is there or never was.
   */
  private async target(roomId: string, seq: number): Promise<ChatMessage> {
    const { backlog } = this.c.ports;
    const deadline = performance.now() + (this.c.settings.targetWaitMs ?? 3_000);
    for (;;) {
      const [m] = await backlog.after(roomId, seq - 1, 1);
      if (m && m.seq === seq) {
        if (m.type !== "message") {
          throw new ChatError("invalid", "not_a_message", "only messages can be edited or deleted");
        }
        if (m.deletedAt) throw new ChatError("not_found", "message_deleted", "that message was deleted");
        return m;
      }
      if (m || performance.now() >= deadline) {
        throw new ChatError("not_found", "message_not_found", "no message with that seq in this room");
      }
      await Bun.sleep(25);
    }
  }
}
