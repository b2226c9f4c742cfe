import type { Published } from "../delivery/publisher.ts";
import { type Actor, type ChatContext, refOf } from "./context.ts";
import { ChatError } from "./errors.ts";
import { type ChatMessage, CLIENT_MSG_ID, type MessageDraft, newDraft, sendBodySchema } from "./message.ts";

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
}

/** Messages: accepting what members send, and reading a room's history. */
export class Messages {
  private readonly bodySchema;

  constructor(private readonly c: ChatContext) {
    this.bodySchema = sendBodySchema(c.settings.maxMessageChars);
  }

  /**
   * Accepts a member's message (`input` is the parsed SEND body) and resolves once the room's log holds
   * it durably: its seq, and whether it was a retry of a message already stored (same client message id).
   */
  async accept(actor: Actor, roomId: string, input: unknown, opts: SendOptions = {}): Promise<Published> {
    return this.c.send(await this.draft(actor, roomId, input, opts));
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
    if (opts.clientMsgId !== undefined && !CLIENT_MSG_ID.test(opts.clientMsgId)) {
      throw new ChatError(
        "invalid",
        "invalid_message",
        "x-client-msg-id must be 1 to 64 letters, digits or '_', '.', ':', '-'",
      );
    }
    const parsed = this.bodySchema.safeParse(input);
    if (!parsed.success) {
      throw new ChatError("invalid", "invalid_message", parsed.error.issues.map((i) => i.message).join("; "));
    }
    const { rooms } = this.c.ports;
    if (!opts.memberKnown && !(await this.c.fromStore(rooms.isMember(roomId, actor.userId), "membership"))) {
      throw new ChatError("forbidden", "not_member", `not a member of room ${roomId}`);
    }
    const extra = opts.clientMsgId === undefined ? {} : { clientMsgId: opts.clientMsgId };
    return newDraft(roomId, "message", refOf(actor), parsed.data.text, extra);
  }

  /** A page of the room's history, oldest first; members only. */
  async history(actor: Actor, roomId: string, q: HistoryQuery): Promise<ChatMessage[]> {
    const room = await this.c.memberRoom(roomId, actor.userId);
    const { backlog } = this.c.ports;
    return q.after !== undefined
      ? backlog.after(room.id, q.after, q.limit)
      : backlog.before(room.id, q.before ?? Number.MAX_SAFE_INTEGER, q.limit);
  }
}
