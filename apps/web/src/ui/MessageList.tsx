import { forwardRef, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type ScrollerProps, Virtuoso, type VirtuosoHandle } from "react-virtuoso";
import type { RoomView } from "../core/chat.ts";
import type { TimelineState } from "../core/timeline.ts";
import { useApp, useStore } from "./context.ts";
import { MessageRow } from "./MessageRow.tsx";
import { BOTTOM_SLACK_PX, usePrependAnchor } from "./prepend-anchor.ts";
import { type Row, rowKey, rowMeta } from "./rows.ts";

interface ListContext {
  state: TimelineState;
  roomName: string;
  retryOlder: () => void;
}

/**
 * The room's messages, virtualised: only what is near the screen is in the DOM, whatever the
 * history's length. Opens at the first unread message or the newest, follows new messages while
 * at the bottom, offers "N new ↓" otherwise, and loads older pages at the top without a jump
 * (Virtuoso's firstItemIndex shifts by the number prepended).
 */
export function MessageList({ view }: { view: RoomView }) {
  const { client } = useApp();
  const s = useStore(view.timeline!.state);
  if (s.status === "loading") return <p className="messages-status">Loading messages…</p>;
  if (s.status === "error") {
    return (
      <p className="messages-status" role="alert">
        {s.error}{" "}
        <button type="button" className="link" onClick={() => void client.reopen(view.roomId)}>
          Try again
        </button>
      </p>
    );
  }
  return <LoadedList view={view} s={s} />;
}

/** Mounted once the first pages are in, so that its starting position and state come from them. */
function LoadedList({ view, s }: { view: RoomView; s: TimelineState }) {
  const { client } = useApp();
  const outbox = useStore(client.outbox.items);
  const dir = useStore(client.directory.state);
  const me = client.session.user!;
  const room = dir.mine.find((r) => r.id === view.roomId) ?? view.room;
  const moderator = room !== null && room.kind !== "dm" && room.ownerId === me.id;
  const list = useRef<VirtuosoHandle>(null);
  // Opening at the first unread message is not at the bottom. The ref is what followOutput reads:
  // measured on every scroll, it is right even after a smooth scroll, where Virtuoso's own flag lags.
  const [atBottom, setAtBottomState] = useState(s.dividerSeq === null);
  const bottomRef = useRef(atBottom);
  const setAtBottom = useCallback((b: boolean) => {
    bottomRef.current = b;
    setAtBottomState(b);
  }, []);
  const pending = useMemo(() => outbox.filter((i) => i.roomId === view.roomId), [outbox, view.roomId]);
  // Every loaded message as a row; the first `hidden` ones are only "the row above" of the first shown.
  const all = useMemo<Row[]>(
    () => [
      ...s.messages.map((m) => ({ kind: "message" as const, m })),
      ...pending.map((item) => ({ kind: "outbox" as const, item })),
    ],
    [s.messages, pending],
  );
  const rows = useMemo(() => all.slice(s.hidden), [all, s.hidden]);
  const lastSeq = s.messages.length ? s.messages[s.messages.length - 1]!.seq : 0;

  // What the user has scrolled past: messages after it count for the "N new" pill.
  const [seenSeq, setSeenSeq] = useState(s.dividerSeq !== null ? s.dividerSeq - 1 : lastSeq);
  useEffect(() => {
    if (atBottom) setSeenSeq(lastSeq);
  }, [atBottom, lastSeq]);
  const unseen = s.messages.filter((m) => m.seq > seenSeq && m.sender.id !== me.id).length;

  const lastIndex = useRef(0);
  lastIndex.current = s.firstItemIndex + rows.length - 1;
  const keepAnchor = usePrependAnchor(s.firstItemIndex, lastIndex, setAtBottom);

  // Sending always shows the message being sent.
  const sentCount = useRef(pending.length);
  useEffect(() => {
    if (pending.length > sentCount.current) list.current?.scrollToIndex({ index: "LAST", behavior: "auto" });
    sentCount.current = pending.length;
  }, [pending.length]);

  const dividerIndex =
    s.dividerSeq === null ? -1 : s.messages.findIndex((m) => m.seq === s.dividerSeq) - s.hidden;
  const context: ListContext = {
    state: s,
    roomName: view.room?.name ?? "",
    retryOlder: () => void client.loadOlder(),
  };

  return (
    <div className="messages-wrap">
      <Virtuoso<Row, ListContext>
        ref={list}
        scrollerRef={keepAnchor.scroller}
        className="messages"
        data={rows}
        context={context}
        firstItemIndex={s.firstItemIndex}
        alignToBottom
        initialTopMostItemIndex={
          dividerIndex >= 0
            ? { index: dividerIndex, align: "start" }
            : { index: rows.length - 1, align: "end" }
        }
        computeItemKey={(_, row) => rowKey(row)}
        startReached={() => void client.loadOlder()}
        followOutput={(bottom) => (bottom || bottomRef.current ? "auto" : false)}
        rangeChanged={keepAnchor.soon}
        totalListHeightChanged={() => keepAnchor.heightChanged(bottomRef.current)}
        atBottomThreshold={BOTTOM_SLACK_PX}
        increaseViewportBy={{ top: 600, bottom: 300 }}
        components={{ Scroller, Header }}
        itemContent={(index, row) => (
          <MessageRow
            row={row}
            roomName={context.roomName}
            moderator={moderator}
            meta={rowMeta(row, all[index - s.firstItemIndex + s.hidden - 1], {
              dividerSeq: s.dividerSeq,
              hasOlder: s.hasOlder,
              me,
            })}
          />
        )}
      />
      {!atBottom && unseen > 0 && (
        <button
          type="button"
          className="new-pill"
          onClick={() => list.current?.scrollToIndex({ index: "LAST", behavior: "smooth" })}
        >
          {unseen} new <span aria-hidden="true">↓</span>
          <span className="visually-hidden"> — jump to the latest</span>
        </button>
      )}
    </div>
  );
}

/** The scrolling element: a labelled region, reachable by Tab so the keyboard can scroll it. */
const Scroller = forwardRef<HTMLDivElement, ScrollerProps>(function Scroller(props, ref) {
  // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be focusable to scroll by keyboard (WCAG 2.1.1)
  return <section {...props} ref={ref} tabIndex={0} aria-label="Messages" />;
});

function Header({ context }: { context?: ListContext }) {
  const s = context!.state;
  if (s.olderError) {
    return (
      <p className="list-edge" role="alert">
        {s.olderError}{" "}
        <button type="button" className="link" onClick={context!.retryOlder}>
          Try again
        </button>
      </p>
    );
  }
  // The start of the history is marked on its first row (see rowMeta), right above it.
  return s.hasOlder ? <p className="list-edge">Loading older messages…</p> : null;
}
