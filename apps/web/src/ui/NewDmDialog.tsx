import { useEffect, useId, useState } from "react";
import type { UserRef } from "../core/api.ts";
import { describeError } from "../core/errors.ts";
import { roomPath } from "../core/router.ts";
import { useApp } from "./context.ts";
import { Dialog } from "./Dialog.tsx";

/** Wait this long after the last keystroke before searching. */
const SEARCH_DELAY_MS = 250;

/** Start (or go back to) a direct conversation: find a person by the start of their username. */
export function NewDmDialog({ onClose }: { onClose: () => void }) {
  const { client, router } = useApp();
  const [prefix, setPrefix] = useState("");
  const [found, setFound] = useState<UserRef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const resultsId = useId();

  useEffect(() => {
    const q = prefix.trim();
    if (!q) return setFound(null);
    let current = true;
    const t = setTimeout(() => {
      client.api.searchUsers(q).then(
        (users) => {
          if (!current) return;
          setFound(users.filter((u) => u.id !== client.me));
          setError(null);
        },
        (err) => current && setError(describeError(err)),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(t);
    };
  }, [client, prefix]);

  async function start(user: UserRef) {
    setBusy(true);
    try {
      const room = await client.openDm(user.id);
      onClose();
      router.go(roomPath(room.id));
    } catch (err) {
      setBusy(false);
      setError(describeError(err));
    }
  }

  return (
    <Dialog title="New direct message" onClose={onClose}>
      <div className="field">
        <label htmlFor={inputId}>Find someone by username</label>
        <input
          id={inputId}
          type="search"
          value={prefix}
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          aria-controls={resultsId}
          onChange={(e) => setPrefix(e.target.value)}
        />
      </div>
      <div id={resultsId} aria-live="polite">
        {found && found.length === 0 && (
          <p className="hint">Nobody's username starts with “{prefix.trim()}”.</p>
        )}
        {found && found.length > 0 && (
          <ul className="people-results" aria-label="People found">
            {found.map((u) => (
              <li key={u.id}>
                <button
                  type="button"
                  className="secondary"
                  disabled={busy}
                  aria-label={`Message ${u.username}`}
                  onClick={() => void start(u)}
                >
                  {u.username}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
