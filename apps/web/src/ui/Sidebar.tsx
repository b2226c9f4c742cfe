import { useId, useState } from "react";
import type { MyRoom, Room } from "../core/api.ts";
import { roomTitle } from "../core/directory.ts";
import { describeError } from "../core/errors.ts";
import { roomPath } from "../core/router.ts";
import { AccountDialog } from "./AccountDialog.tsx";
import { CreateRoomDialog } from "./CreateRoomDialog.tsx";
import { useApp, useStore } from "./context.ts";
import { navigate } from "./links.ts";
import { NewDmDialog } from "./NewDmDialog.tsx";

/**
 * Your rooms and direct messages (with unread badges, kept live by the server's room list) and rooms
 * to discover; your settings; log out.
 */
export function Sidebar() {
  const { client, router } = useApp();
  const dir = useStore(client.directory.state);
  const route = useStore(router.route);
  const session = useStore(client.session.state);
  const [dialog, setDialog] = useState<"room" | "dm" | "account" | null>(null);
  const mineId = useId();
  const dmsId = useId();
  const discoverId = useId();
  const openId = route.name === "room" ? route.roomId : null;
  const groups = dir.mine.filter((r) => r.kind !== "dm");
  const dms = dir.mine.filter((r) => r.kind === "dm");

  return (
    <nav className="sidebar" aria-label="Rooms">
      <header className="sidebar-head">
        <span className="brand">ChatTalk</span>
        <button
          type="button"
          className="link me"
          aria-haspopup="dialog"
          aria-label={`Your settings (${session.status === "in" ? session.user.username : ""})`}
          onClick={() => setDialog("account")}
        >
          {session.status === "in" ? session.user.username : ""}
        </button>
        <button type="button" className="link" onClick={() => void client.logout()}>
          Log out
        </button>
      </header>
      <div className="sidebar-scroll">
        <button type="button" className="primary wide" onClick={() => setDialog("room")}>
          New room
        </button>
        <h2 id={mineId} tabIndex={-1} data-focus-home>
          Your rooms
        </h2>
        {dir.loaded && groups.length === 0 && <p className="hint">You haven't joined any rooms yet.</p>}
        <ul className="room-list" aria-labelledby={mineId}>
          {groups.map((r) => (
            <RoomLink key={r.id} room={r} open={r.id === openId} />
          ))}
        </ul>
        <div className="section-head">
          <h2 id={dmsId}>Direct messages</h2>
          <button
            type="button"
            className="secondary small"
            aria-haspopup="dialog"
            aria-label="New direct message"
            onClick={() => setDialog("dm")}
          >
            New
          </button>
        </div>
        {dir.loaded && dms.length === 0 && <p className="hint">No conversations yet.</p>}
        <ul className="room-list" aria-labelledby={dmsId}>
          {dms.map((r) => (
            <RoomLink key={r.id} room={r} open={r.id === openId} />
          ))}
        </ul>
        <h2 id={discoverId}>Discover</h2>
        {dir.loaded && dir.discover.length === 0 && <p className="hint">No other rooms yet.</p>}
        <ul className="room-list discover" aria-labelledby={discoverId}>
          {dir.discover.map((r) => (
            <DiscoverItem key={r.id} room={r} />
          ))}
        </ul>
        {dir.error && (
          <p className="hint" role="status">
            {dir.error}
          </p>
        )}
      </div>
      <NotifyToggle />
      {dialog === "room" && <CreateRoomDialog onClose={() => setDialog(null)} />}
      {dialog === "dm" && <NewDmDialog onClose={() => setDialog(null)} />}
      {dialog === "account" && <AccountDialog onClose={() => setDialog(null)} />}
    </nav>
  );
}

function RoomLink({ room: r, open }: { room: MyRoom; open: boolean }) {
  const { router } = useApp();
  const dm = r.kind === "dm";
  return (
    <li>
      <a
        href={roomPath(r.id)}
        className="room-link"
        aria-current={open ? "page" : undefined}
        onClick={navigate(router, roomPath(r.id))}
      >
        <span className="room-name">{roomTitle(r)}</span>
        {r.unreadCount > 0 && !open && (
          <span className="badge">
            {r.unreadCount > 99 ? "99+" : r.unreadCount}
            <span className="visually-hidden"> unread</span>
          </span>
        )}
        {!dm && (
          <span className="meta">
            <span className="visually-hidden">, members: </span>
            {r.memberCount}/{r.maxMembers}
            {r.private && (
              <>
                <span aria-hidden="true"> · </span>private
              </>
            )}
          </span>
        )}
      </a>
    </li>
  );
}

function DiscoverItem({ room }: { room: Room }) {
  const { client, router } = useApp();
  const [busy, setBusy] = useState(false);
  const full = room.memberCount >= room.maxMembers;
  async function join() {
    setBusy(true);
    try {
      await client.join(room.id);
      router.go(roomPath(room.id));
    } catch (err) {
      client.toast(describeError(err));
      void client.refreshRooms();
    } finally {
      setBusy(false);
    }
  }
  return (
    <li className="discover-item">
      <span className="room-name">{room.name}</span>
      <span className="meta">
        {room.memberCount}/{room.maxMembers}
        {full ? " · full" : ""}
      </span>
      <button
        type="button"
        className="secondary small"
        disabled={busy || full}
        aria-label={`Join ${room.name}`}
        onClick={() => void join()}
      >
        Join
      </button>
    </li>
  );
}

function NotifyToggle() {
  const { client } = useApp();
  const state = useStore(client.alerts.notify);
  if (state === "unsupported") return null;
  return (
    <footer className="sidebar-foot">
      {state === "blocked" ? (
        <p className="hint">Notifications are blocked in this browser's site settings.</p>
      ) : (
        <button
          type="button"
          className="link"
          aria-pressed={state === "on"}
          onClick={() => (state === "on" ? client.alerts.disable() : void client.alerts.enable())}
        >
          {state === "on" ? "Desktop notifications: on" : "Turn on desktop notifications"}
        </button>
      )}
    </footer>
  );
}
