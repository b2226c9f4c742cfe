import type { MessageBus } from "../bus/types.ts";
import type { MessageDraft } from "../chat/message.ts";
import { type DuplicateIndex, duplicateKey } from "./duplicates.ts";

/** What a SEND's RECEIPT reports: the seq of the stored copy, and whether an earlier attempt stored it. */
export interface Published {
  seq: number;
  /** True when this attempt was a retry of a message already stored (or being stored) and wrote nothing new. */
  duplicate: boolean;
}

const firstCopy = (logged: { seq: number }): Published => ({ seq: logged.seq, duplicate: false });

/**
 * Appends messages to the bus once per client message id. A retry of a message this node's reader
 * has already seen kept is answered with that copy's seq without touching the bus (even while the
 * bus is down); a retry arriving while the first attempt is still on its way here joins it. Anything
 * else is appended, then the answer waits until this node's reader has judged the new copy (see
 * DuplicateIndex) so that a copy another replica appended first — two retries racing — is reported
 * as the kept one, identical to what every reader delivers and stores.
 */
export class IdempotentPublisher {
  /** Retries answered with a copy already stored or under way (RECEIPT with x-duplicate). */
  retriesAnswered = 0;
  private readonly inFlight = new Map<string, Promise<Published>>();

  constructor(
    private readonly bus: Pick<MessageBus, "publish">,
    private readonly kept: DuplicateIndex,
    /** How long to wait for this node's reader to judge an appended copy before answering anyway. */
    private readonly settleTimeoutMs: number,
  ) {}

  /** Not async on the common path (no client message id): one SEND, one fewer generator and promise. */
  publish(draft: MessageDraft): Promise<Published> {
    const id = draft.clientMsgId;
    if (id === undefined) return this.bus.publish(draft).then(firstCopy);
    return this.once(draft, id).then((published) => {
      if (published.duplicate) this.retriesAnswered++;
      return published;
    });
  }

  private async once(draft: MessageDraft, id: string): Promise<Published> {
    const known = this.kept.lookup(draft.roomId, draft.sender.id, id);
    if (known !== undefined) return { seq: known, duplicate: true };
    const key = duplicateKey(draft.roomId, draft.sender.id, id);
    const pending = this.inFlight.get(key);
    if (pending) return { ...(await pending), duplicate: true };
    const attempt = this.append(draft, id);
    this.inFlight.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async append(draft: MessageDraft, id: string): Promise<Published> {
    const { seq } = await this.bus.publish(draft);
    const keptSeq = await this.kept.settle(draft.roomId, draft.sender.id, id, seq, this.settleTimeoutMs);
    // Not judged in time (the reader is behind): this copy is stored either way; report it.
    if (keptSeq === undefined) return { seq, duplicate: false };
    return { seq: keptSeq, duplicate: keptSeq !== seq };
  }
}
