import { useId, useState } from "react";
import type { Room } from "../core/api.ts";
import { describeError } from "../core/errors.ts";
import { roomPath } from "../core/router.ts";
import { CreateRoomDialog } from "./CreateRoomDialog.tsx";
import { useApp, useStore } from "./context.ts";
import { navigate } from "./links.ts";

/** Your rooms (with unread badges) and rooms to discover; the account menu; notifications. */
export function Sidebar() {
  const { client, router } = useApp();
  const dir = useStore(client.directory.state);
  const route = useStore(router.route);
  const session = useStore(client.session.state);
  const [creating, setCreating] = useState(false);
  const mineId = useId();
  const discoverId = useId();
  const openId = route.name === "room" ? route.roomId : null;

  return (
    <nav className="sidebar" aria-label="Rooms">
      <header className="sidebar-head">
        <span className="brand">ChatTalk</span>
        <span className="me" title="Logged in as">
          {session.status === "in" ? session.user.username : ""}
        </span>
        <button type="button" className="link" onClick={() => void client.logout()}>
          Log out
        </button>
      </header>
      <div className="sidebar-scroll">
        <button type="button" className="primary wide" onClick={() => setCreating(true)}>
          New room
        </button>
        <h2 id={mineId} tabIndex={-1} data-focus-home>
          Your rooms
        </h2>
        {dir.loaded && dir.mine.length === 0 && <p className="hint">You haven't joined any rooms yet.</p>}
        <ul className="room-list" aria-labelledby={mineId}>
          {dir.mine.map((r) => (
            <li key={r.id}>
              <a
                href={roomPath(r.id)}
                className="room-link"
                aria-current={r.id === openId ? "page" : undefined}
                onClick={navigate(router, roomPath(r.id))}
              >
                <span className="room-name">{r.name}</span>
                {r.unreadCount > 0 && r.id !== openId && (
                  <span className="badge">
                    {r.unreadCount > 99 ? "99+" : r.unreadCount}
                    <span className="visually-hidden"> unread</span>
                  </span>
                )}
                <span className="meta">
                  <span className="visually-hidden">, members: </span>
                  {r.memberCount}/{r.maxMembers}
                </span>
              </a>
            </li>
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
      {creating && <CreateRoomDialog onClose={() => setCreating(false)} />}
    </nav>
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
