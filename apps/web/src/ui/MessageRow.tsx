import { memo, useState } from "react";
import type { UserRef } from "../core/api.ts";
import type { OutboxItem } from "../core/outbox.ts";
import { useApp, useStore } from "./context.ts";
import { formatFull, formatTime } from "./format.ts";
import { MessageActions, MessageEditor } from "./MessageActions.tsx";
import type { Row, RowMeta } from "./rows.ts";

export const MessageRow = memo(function MessageRow(props: {
  row: Row;
  meta: RowMeta;
  roomName: string;
  /** The user may delete others' messages here (the owner of a group room). */
  moderator: boolean;
}) {
  const { row, meta } = props;
  return (
    <div className="row">
      {meta.start && (
        <p className="list-edge">
          This is the beginning of <strong>{props.roomName}</strong>.
        </p>
      )}
      {meta.day && <h2 className="day-sep">{meta.day}</h2>}
      {meta.divider && <p className="unread-sep">New since your last visit</p>}
      {row.kind === "message" && row.m.type !== "message" ? (
        <p className="system">
          {row.m.text} · <Time at={row.m.sentAt} />
        </p>
      ) : (
        <Message row={row} grouped={meta.grouped} moderator={props.moderator} />
      )}
    </div>
  );
});

function Time({ at, className }: { at: string; className?: string }) {
  return (
    <time dateTime={at} title={formatFull(at)} className={className}>
      {formatTime(at)}
    </time>
  );
}

function Message({ row, grouped, moderator }: { row: Row; grouped: boolean; moderator: boolean }) {
  const { client } = useApp();
  const [editing, setEditing] = useState(false);
  const session = useStore(client.session.state);
  const me = session.status === "in" ? session.user : { id: "", username: "" };
  const sender = row.kind === "message" ? row.m.sender : me;
  const at = row.kind === "message" ? row.m.sentAt : row.item.createdAt;
  const state = row.kind === "outbox" ? row.item.state : null;
  const mine = sender.id === me.id;
  const m = row.kind === "message" ? row.m : null;
  const deleted = Boolean(m?.deletedAt);
  const cls = ["msg", grouped && "grouped", mine && "mine", state && `out-${state}`, deleted && "deleted"]
    .filter(Boolean)
    .join(" ");
  return (
    <article className={cls}>
      {grouped ? <Time at={at} className="side-time" /> : <Avatar user={sender} />}
      <div className="msg-main">
        {!grouped && (
          <p className="msg-head">
            <span className="who">{sender.username}</span> <Time at={at} />
          </p>
        )}
        {m && editing ? (
          <MessageEditor message={m} onDone={() => setEditing(false)} />
        ) : m ? (
          <p className="text">
            {deleted ? <em>This message was deleted.</em> : m.text}
            {m.editedAt && !deleted && (
              <span className="edited" title={`Edited ${formatFull(m.editedAt)}`}>
                {" "}
                (edited)
              </span>
            )}
          </p>
        ) : row.kind === "outbox" ? (
          <>
            <p className="text">{row.item.text}</p>
            <OutboxStatus item={row.item} />
          </>
        ) : null}
      </div>
      {m && !deleted && !editing && (mine || moderator) && (
        <MessageActions message={m} canEdit={mine} onEdit={() => setEditing(true)} />
      )}
    </article>
  );
}

function OutboxStatus({ item }: { item: OutboxItem }) {
  const { client } = useApp();
  const link = useStore(client.chat.state);
  if (item.state === "sent") return null;
  if (item.state === "failed") {
    return (
      <p className="send-failed" role="alert">
        Not sent. {item.note}{" "}
        <button type="button" className="link" onClick={() => client.outbox.retry(item.id)}>
          Retry
        </button>{" "}
        <button type="button" className="link" onClick={() => client.outbox.discard(item.id)}>
          Discard
        </button>
      </p>
    );
  }
  const text =
    link.kind !== "online"
      ? "Waiting for the connection…"
      : item.note && item.state === "queued"
        ? item.note
        : "Sending…";
  return <p className="send-status">{text}</p>;
}

const palette = [
  "#1d4ed8",
  "#047857",
  "#b91c1c",
  "#6d28d9",
  "#a21caf",
  "#c2410c",
  "#0f766e",
  "#4338ca",
  "#be185d",
];

function Avatar({ user }: { user: UserRef }) {
  let h = 0;
  for (const ch of user.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const initial = [...user.username][0]?.toUpperCase() ?? "?";
  return (
    <span className="avatar" aria-hidden="true" style={{ background: palette[h % palette.length] }}>
      {initial}
    </span>
  );
}
