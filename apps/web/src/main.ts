import { Api, ApiError, type ChatMessage, type Room, type UserRef } from "./api.ts";
import { type Client, connectStomp, type IMessage, type StompSubscription } from "./stomp.ts";

const api = new Api();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, cls = "", text = "") => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  e.textContent = text;
  return e;
};

let chat: Client | null = null;
let presence: Client | null = null;
let current: Room | null = null;
let roomSub: StompSubscription | null = null;
let presenceSub: StompSubscription | null = null;
let shownSeqs = new Set<number>();
let dividerShown = false;
/** Messages after this seq were missed while away: the divider goes before the first of them. */
let readPosition = Number.POSITIVE_INFINITY;
/** Who is online, and every member seen (snapshot members plus anyone who joined or left since). */
let roster = { version: 0, online: new Map<string, UserRef>(), members: new Map<string, UserRef>() };

function showAuth(): void {
  $("auth").hidden = false;
  $("app").hidden = true;
}

async function showApp(): Promise<void> {
  $("auth").hidden = true;
  $("app").hidden = false;
  $("me").textContent = api.session!.user.username;
  chat = connectStomp("/ws", api, onChatConnect, (s) => ($("conn-state").textContent = s));
  presence = connectStomp("/presence", api, onPresenceConnect, (s) => ($("presence-state").textContent = s));
  chat.onUnhandledMessage = onNotice;
  await refreshRooms();
}

async function refreshRooms(): Promise<void> {
  const [mine, others] = await Promise.all([api.myRooms(), api.discover()]);
  const list = $("my-rooms");
  list.replaceChildren(
    ...mine.map((r) => {
      const li = el("li", r.id === current?.id ? "active" : "");
      li.append(el("span", "", r.name), el("span", "meta", `${r.memberCount}/${r.maxMembers}`));
      if (r.unreadCount && r.id !== current?.id) {
        li.append(el("span", "badge", r.unreadCountCapped ? "999+" : String(r.unreadCount)));
      }
      li.onclick = () => openRoom(r);
      return li;
    }),
  );
  $("discover-rooms").replaceChildren(
    ...others.map((r) => {
      const li = el("li");
      li.append(el("span", "", r.name), el("span", "meta", `${r.memberCount}/${r.maxMembers} · join`));
      li.onclick = () =>
        api
          .join(r.id)
          .then(() => openRoom(r))
          .catch(showError);
      return li;
    }),
  );
}

async function openRoom(room: Room): Promise<void> {
  roomSub?.unsubscribe();
  presenceSub?.unsubscribe();
  current = room;
  shownSeqs = new Set();
  dividerShown = false;
  readPosition = room.readPosition ?? Number.POSITIVE_INFINITY;
  $("room-title").textContent = room.name;
  $("messages").replaceChildren();
  $("composer").hidden = false;
  $("leave-room").hidden = false;
  // Recent history first; the subscription then replays what was missed and goes live.
  const history = await api.history(room.id, null, 30);
  for (const m of history) render(m, false);
  subscribeRoom();
  subscribePresence();
  await refreshRooms();
}

function onChatConnect(client: Client): void {
  client.subscribe("/user/queue/errors", onNotice);
  subscribeRoom();
}

function subscribeRoom(): void {
  if (!current || !chat?.connected) return;
  const last = Math.max(0, ...shownSeqs);
  // x-since-seq: continue after what this page already shows, so a reconnect has no gap.
  const headers: Record<string, string> = last > 0 ? { "x-since-seq": String(last) } : {};
  roomSub = chat.subscribe(
    `/topic/rooms/${current.id}`,
    (m) => render(JSON.parse(m.body), m.headers["x-replay"] === "true"),
    headers,
  );
}

function onPresenceConnect(): void {
  subscribePresence();
}

function subscribePresence(): void {
  if (!current || !presence?.connected) return;
  presenceSub = presence.subscribe(`/topic/presence/rooms/${current.id}`, onPresence);
}

function onPresence(m: IMessage): void {
  const ev = JSON.parse(m.body);
  if (ev.type === "snapshot") {
    const known: UserRef[] = [...(ev.members ?? []), ...ev.online];
    roster = {
      version: ev.version,
      online: new Map(ev.online.map((u: UserRef) => [u.id, u])),
      members: new Map(known.map((u) => [u.id, { id: u.id, username: u.username }])),
    };
  } else if (ev.type === "diff") {
    if (ev.version !== roster.version + 1) {
      // A gap: resubscribe for a fresh snapshot.
      presenceSub?.unsubscribe();
      subscribePresence();
      return;
    }
    roster.version = ev.version;
    for (const u of [...ev.joined, ...ev.left]) roster.members.set(u.id, u);
    for (const u of ev.joined) roster.online.set(u.id, u);
    for (const u of ev.left) roster.online.delete(u.id);
  } else if (ev.type === "degraded") {
    $("presence-state").textContent = "presence temporarily unavailable";
    return;
  }
  $("presence-state").textContent = "";
  const online = [...roster.online.values()];
  $("online").replaceChildren(...online.map((u) => el("li", "", u.username)));
  const offline = [...roster.members.values()].filter((u) => !roster.online.has(u.id));
  $("offline").replaceChildren(...offline.map((u) => el("li", "", u.username)));
}

function render(m: ChatMessage, replay: boolean): void {
  if (m.roomId !== current?.id || shownSeqs.has(m.seq)) return;
  shownSeqs.add(m.seq);
  const list = $("messages");
  const missed = replay || (m.seq > readPosition && m.sender.id !== api.session?.user.id);
  if (missed && !dividerShown) {
    list.append(el("li", "divider", "while you were away"));
    dividerShown = true;
  }
  if (m.type !== "message") {
    list.append(el("li", "system", `${m.sender.username} ${m.type === "join" ? "joined" : "left"}`));
  } else {
    const li = el("li", m.sender.id === api.session?.user.id ? "mine" : "");
    const time = el("time", "", new Date(m.sentAt).toLocaleTimeString());
    li.append(el("span", "who", m.sender.username), document.createTextNode(m.text), time);
    list.append(li);
  }
  list.scrollTop = list.scrollHeight;
}

function onNotice(m: IMessage): void {
  const n = JSON.parse(m.body);
  $("notice").textContent = n.message ?? "notice";
  setTimeout(() => ($("notice").textContent = ""), 4000);
  if (n.code === "subscription_revoked") refreshRooms();
}

function showError(err: unknown): void {
  const msg = err instanceof ApiError ? err.message : String(err);
  $("notice").textContent = msg;
  $("auth-error").textContent = msg;
}

$("auth-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target as HTMLFormElement;
  const mode = ((e as SubmitEvent).submitter as HTMLButtonElement).value as "login" | "signup";
  const data = new FormData(form);
  try {
    await api.auth(mode, String(data.get("username")), String(data.get("password")));
    $("auth-error").textContent = "";
    await showApp();
  } catch (err) {
    showError(err);
  }
});

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("text");
  const text = input.value.trim();
  if (!text || !current || !chat?.connected) return;
  chat.publish({
    destination: `/topic/rooms/${current.id}`,
    body: JSON.stringify({ text }),
    headers: { "content-type": "application/json" },
  });
  input.value = "";
});

$("create-room").addEventListener("submit", async (e) => {
  e.preventDefault();
  const data = new FormData(e.target as HTMLFormElement);
  try {
    const room = await api.createRoom(String(data.get("name")), Number(data.get("maxMembers")));
    (e.target as HTMLFormElement).reset();
    await openRoom(room);
  } catch (err) {
    showError(err);
  }
});

$("leave-room").addEventListener("click", async () => {
  if (!current) return;
  await api.leave(current.id).catch(showError);
  roomSub?.unsubscribe();
  presenceSub?.unsubscribe();
  current = null;
  $("messages").replaceChildren();
  $("composer").hidden = true;
  $("leave-room").hidden = true;
  $("room-title").textContent = "Pick a room";
  await refreshRooms();
});

$("logout").addEventListener("click", async () => {
  await chat?.deactivate();
  await presence?.deactivate();
  await api.logout();
  location.reload();
});

// Leaving the page: a clean DISCONNECT lets the server save exactly what was read.
addEventListener("pagehide", () => {
  chat?.deactivate();
  presence?.deactivate();
});

if (api.session) showApp().catch(() => showAuth());
else showAuth();
