/**
 * One sender's messages in the order they arrived, when several are under way at once (a connection
 * pipelining SENDs): each takes a place when it arrives, and its append is queued only once every
 * earlier place has queued its own or was refused — whatever store lookups each waited on meanwhile.
 * A message whose earlier places are all done does not wait at all, so messages that need no lookup
 * are appended in the same microtask pass (one group commit on the embedded bus).
 */
export class SendOrder {
  /** Places not done yet, oldest first; a done place leaves once every place before it is done. */
  private readonly open: { done: boolean; wake?: () => void }[] = [];

  /** Takes the next place. `turn()` is undefined when it is this place's turn, else resolves then; call `done` once, always. */
  next(): { turn: () => Promise<void> | undefined; done: () => void } {
    const place: { done: boolean; wake?: () => void } = { done: false };
    this.open.push(place);
    return {
      turn: () =>
        this.open[0] === place
          ? undefined
          : new Promise<void>((resolve) => {
              place.wake = resolve;
            }),
      done: () => {
        if (place.done) return;
        place.done = true;
        while (this.open.length > 0 && this.open[0]!.done) this.open.shift();
        this.open[0]?.wake?.();
      },
    };
  }
}
