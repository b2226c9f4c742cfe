import { useEffect, useRef, useState } from "react";
import type { RoomView } from "../core/chat.ts";
import { roomTitle } from "../core/directory.ts";
import { describeError } from "../core/errors.ts";
import { Composer } from "./Composer.tsx";
import { coarsePointer, useApp, useStore } from "./context.ts";
import { ConfirmDialog, Dialog } from "./Dialog.tsx";
import { navigate } from "./links.ts";
import { MessageList } from "./MessageList.tsx";
import { PeoplePanel } from "./PeoplePanel.tsx";
import { RoomSettingsDialog } from "./RoomSettingsDialog.tsx";
import { RoomStatus } from "./RoomStatus.tsx";

export function RoomScreen({ roomId }: { roomId: string }) {
  const { client } = useApp();
  const view = useStore(client.view);
  if (!view || view.roomId !== roomId || view.kind === "loading") {
    return <RoomMessage title="Loading…" />;
  }
  if (view.kind === "preview") return <JoinPrompt view={view} />;
  if (view.kind === "missing") {
    return <RoomMessage title="Room not found">This room doesn't exist, or it was deleted.</RoomMessage>;
  }
  if (view.kind === "error") {
    return (
      <RoomMessage title="Couldn't open this room">
        {view.error}{" "}
        <button type="button" className="link" onClick={() => void client.reopen(roomId)}>
          Try again
        </button>
      </RoomMessage>
    );
  }
  return <OpenRoom view={view} />;
}

function BackLink() {
  const { router } = useApp();
  return (
    <a href="/" className="back" onClick={navigate(router, "/")}>
      <span aria-hidden="true">←</span>
      <span className="visually-hidden">Back to rooms</span>
    </a>
  );
}

function RoomMessage({ title, children }: { title: string; children?: React.ReactNode }) {
  return (
    <section className="room">
      <header className="room-head">
        <BackLink />
        <h1>{title}</h1>
      </header>
      {children && <div className="empty">{children}</div>}
    </section>
  );
}

/** A deep link to a room the user is not in: say what it is and offer to join. */
function JoinPrompt({ view }: { view: RoomView }) {
  const { client } = useApp();
  const [error, setError] = useState<string | null>(null);
  const room = view.room!;
  return (
    <RoomMessage title={room.name}>
      <p>
        You're not a member of this room yet. It has {room.memberCount} of {room.maxMembers} members.
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button
        type="button"
        className="primary"
        onClick={() => client.join(room.id).catch((err) => setError(describeError(err)))}
      >
        Join {room.name}
      </button>
    </RoomMessage>
  );
}

function OpenRoom({ view }: { view: RoomView }) {
  const { client, router } = useApp();
  const dir = useStore(client.directory.state);
  const roster = useStore(view.roster!.state);
  const room = dir.mine.find((r) => r.id === view.roomId) ?? view.room!;
  const title = roomTitle(room);
  const dm = room.kind === "dm";
  const [drawer, setDrawer] = useState(false);
  const [settings, setSettings] = useState(false);
  const [confirm, setConfirm] = useState<"leave" | "delete" | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const isOwner = room.ownerId === client.me && !dm;
  const memberCount = roster.loaded ? roster.members.length : room.memberCount;

  // Land where the user can act: the message box, or on a phone (where that would pop up the
  // keyboard) the room's title.
  useEffect(() => {
    if (coarsePointer()) heading.current?.focus();
    else document.getElementById("composer")?.focus();
  }, []);

  async function act(kind: "leave" | "delete") {
    setBusy(true);
    setError(null);
    try {
      if (kind === "leave") await client.leave(room.id);
      else await client.deleteRoom(room.id);
      setConfirm(null);
      router.go("/");
      requestAnimationFrame(() => document.querySelector<HTMLElement>("[data-focus-home]")?.focus());
    } catch (err) {
      setBusy(false);
      setError(describeError(err));
    }
  }

  return (
    <div className="room-layout">
      <section className="room" aria-labelledby="room-title">
        <header className="room-head">
          <BackLink />
          <div className="room-title">
            <h1 id="room-title" ref={heading} tabIndex={-1}>
              {title}
            </h1>
            <span className="meta">
              {dm ? "Direct message" : `${memberCount} ${memberCount === 1 ? "member" : "members"}`} ·{" "}
              {roster.here.size} here
              {room.private && !dm ? " · private" : ""}
              {room.description ? <span className="description"> · {room.description}</span> : null}
            </span>
          </div>
          <div className="room-actions">
            <button
              type="button"
              className="secondary small people-toggle"
              aria-haspopup="dialog"
              onClick={() => setDrawer(true)}
            >
              People
            </button>
            {!view.closed && isOwner && (
              <button
                type="button"
                className="secondary small"
                aria-haspopup="dialog"
                onClick={() => setSettings(true)}
              >
                Settings
              </button>
            )}
            {!view.closed && (
              <button type="button" className="secondary small" onClick={() => setConfirm("leave")}>
                Leave
              </button>
            )}
            {!view.closed && isOwner && (
              <button
                type="button"
                className="secondary danger-text small delete-room"
                onClick={() => setConfirm("delete")}
              >
                Delete
              </button>
            )}
          </div>
        </header>
        {view.closed && (
          <p className="closed" role="alert">
            {view.closed}{" "}
            <a href="/" onClick={navigate(router, "/")}>
              Back to your rooms
            </a>
          </p>
        )}
        <MessageList view={view} />
        <RoomStatus view={view} />
        <Composer roomName={title} disabled={view.closed !== null} />
      </section>
      <aside className="people" aria-label="People in this room">
        <PeoplePanel roster={roster} />
      </aside>
      {drawer && (
        <Dialog title="People" className="drawer" onClose={() => setDrawer(false)}>
          <PeoplePanel roster={roster} />
          <div className="dialog-actions">
            <button type="button" className="secondary" onClick={() => setDrawer(false)}>
              Close
            </button>
          </div>
        </Dialog>
      )}
      {settings && (
        <RoomSettingsDialog
          room={room}
          members={roster.members}
          onClose={() => setSettings(false)}
          onDelete={() => {
            setSettings(false);
            setConfirm("delete");
          }}
        />
      )}
      {confirm === "leave" && (
        <ConfirmDialog
          title={dm ? `Leave your conversation with ${title}?` : `Leave ${title}?`}
          confirm="Leave room"
          busy={busy}
          error={error}
          onConfirm={() => void act("leave")}
          onClose={() => setConfirm(null)}
        >
          {dm ? (
            <p>It leaves your list. Starting a conversation with {title} again brings it back.</p>
          ) : (
            <p>You'll stop getting its messages. You can join again later if there's room.</p>
          )}
          {isOwner && <p>You own this room: the longest-standing member becomes its owner.</p>}
          {memberCount === 1 && !dm && <p>You're its last member, so the room will be deleted.</p>}
        </ConfirmDialog>
      )}
      {confirm === "delete" && (
        <ConfirmDialog
          title={`Delete ${title}?`}
          confirm="Delete room"
          busy={busy}
          error={error}
          onConfirm={() => void act("delete")}
          onClose={() => setConfirm(null)}
        >
          <p>The room and its history are removed for all {memberCount} members. This can't be undone.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
