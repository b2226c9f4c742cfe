import { useEffect } from "react";
import { roomTitle } from "../core/directory.ts";
import { ConnectionBanner } from "./ConnectionBanner.tsx";
import { useApp, useStore } from "./context.ts";
import { InviteScreen } from "./InviteScreen.tsx";
import { RoomScreen } from "./RoomScreen.tsx";
import { Sidebar } from "./Sidebar.tsx";

/**
 * The app shell, fixed to the viewport: only the room list and the message list scroll. On a phone
 * the room list and the room are two screens (`data-screen` picks which one shows).
 */
export function Shell() {
  const { client, router } = useApp();
  const route = useStore(router.route);
  const roomId = route.name === "room" ? route.roomId : null;

  useEffect(() => {
    void client.open(roomId);
  }, [client, roomId]);
  usePageTitle();

  return (
    <div className="shell" data-screen={route.name === "home" ? "rooms" : "room"}>
      <ConnectionBanner />
      <Sidebar />
      <main className="main" aria-label={roomId ? undefined : "Room"}>
        {roomId ? (
          <RoomScreen key={roomId} roomId={roomId} />
        ) : route.name === "invite" ? (
          <InviteScreen token={route.token} />
        ) : (
          <NoRoom />
        )}
      </main>
      <Toasts />
      <Announcer />
    </div>
  );
}

function NoRoom() {
  return (
    <div className="empty">
      <h1>Pick a room</h1>
      <p>Choose one of your rooms, join one from Discover, or create a new one.</p>
    </div>
  );
}

/** "(3) lobby · ChatTalk": unread messages in the tab's title. */
function usePageTitle() {
  const { client } = useApp();
  const dir = useStore(client.directory.state);
  const view = useStore(client.view);
  const unseen = useStore(client.alerts.unseen);
  const unread = dir.mine.reduce((n, r) => n + r.unreadCount, 0) + unseen;
  const open = view ? (dir.mine.find((r) => r.id === view.roomId) ?? view.room) : null;
  const name = open ? roomTitle(open) : undefined;
  useEffect(() => {
    document.title = `${unread > 0 ? `(${unread}) ` : ""}${name ? `${name} · ` : ""}ChatTalk`;
  }, [unread, name]);
}

function Toasts() {
  const { client } = useApp();
  const toasts = useStore(client.toasts);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <p key={t.id} className="toast">
          {t.text}
        </p>
      ))}
    </div>
  );
}

/** New messages from others, read out by screen readers (the virtualised list itself stays quiet). */
function Announcer() {
  const { client } = useApp();
  const text = useStore(client.alerts.announcement);
  return (
    <div className="visually-hidden" aria-live="polite">
      {text}
    </div>
  );
}
