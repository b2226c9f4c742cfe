import type { RosterState } from "../core/roster.ts";
import { useApp } from "./context.ts";

/** Who is in the room now, and the other members — current members only. */
export function PeoplePanel({ roster }: { roster: RosterState }) {
  const { client } = useApp();
  const here = roster.members.filter((u) => roster.here.has(u.id));
  const away = roster.members.filter((u) => !roster.here.has(u.id));
  const name = (id: string, username: string) => (id === client.me ? `${username} (you)` : username);
  if (!roster.loaded) return <p className="hint">Loading people…</p>;
  return (
    <div className="people-panel">
      {roster.degraded && <p className="hint">Can't tell who's here right now.</p>}
      <h3>In this room now · {here.length}</h3>
      <ul className="people-list here-list">
        {here.map((u) => (
          <li key={u.id}>
            <span className="dot" aria-hidden="true" />
            {name(u.id, u.username)}
          </li>
        ))}
      </ul>
      <h3>Other members · {away.length}</h3>
      <ul className="people-list away-list">
        {away.map((u) => (
          <li key={u.id}>
            <span className="dot away" aria-hidden="true" />
            {name(u.id, u.username)}
          </li>
        ))}
      </ul>
    </div>
  );
}
