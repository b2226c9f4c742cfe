import { useState } from "react";
import { describeError } from "../core/errors.ts";
import { roomPath } from "../core/router.ts";
import { useApp } from "./context.ts";
import { navigate } from "./links.ts";

/** An invite link opened (also after logging in: the URL is kept): join with one click. */
export function InviteScreen({ token }: { token: string }) {
  const { client, router } = useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function accept() {
    setBusy(true);
    setError(null);
    try {
      const room = await client.acceptInvite(token);
      router.go(roomPath(room.id), { replace: true });
    } catch (err) {
      setBusy(false);
      setError(describeError(err));
    }
  }

  return (
    <section className="room">
      <header className="room-head">
        <h1>You're invited</h1>
      </header>
      <div className="empty">
        <p>Someone sent you a link to join a room on ChatTalk.</p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <p className="dialog-actions start">
          <button type="button" className="primary" disabled={busy} onClick={() => void accept()}>
            {busy ? "Joining…" : "Join the room"}
          </button>
          <a href="/" onClick={navigate(router, "/")}>
            Not now
          </a>
        </p>
      </div>
    </section>
  );
}
