import { type FormEvent, useEffect, useId, useState } from "react";
import type { Settings } from "../core/api.ts";
import { describeError } from "../core/errors.ts";
import { useApp, useStore } from "./context.ts";
import { Dialog } from "./Dialog.tsx";
import { Field } from "./Field.tsx";

/** The user's own settings: read receipts, desktop notifications, and deleting the account. */
export function AccountDialog({ onClose }: { onClose: () => void }) {
  const { client } = useApp();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const notify = useStore(client.alerts.notify);
  const session = useStore(client.session.state);

  useEffect(() => {
    client.api.settings().then(setSettings, (err) => setError(describeError(err)));
  }, [client]);

  // Shown changed at once; put back if the server refuses.
  async function setReceipts(readReceipts: boolean) {
    const before = settings;
    setError(null);
    setSettings((s) => (s ? { ...s, readReceipts } : s));
    try {
      setSettings(await client.api.updateSettings({ readReceipts }));
    } catch (err) {
      setSettings(before);
      setError(describeError(err));
    }
  }

  return (
    <Dialog title="Your settings" onClose={onClose}>
      <p className="hint">Logged in as {session.status === "in" ? session.user.username : ""}</p>
      <section className="settings-section">
        <label className="check">
          <input
            type="checkbox"
            checked={settings?.readReceipts ?? false}
            disabled={!settings}
            onChange={(e) => void setReceipts(e.target.checked)}
          />
          Read receipts: let others see when you've read their messages
        </label>
        {notify !== "unsupported" && (
          <label className="check">
            <input
              type="checkbox"
              checked={notify === "on"}
              disabled={notify === "blocked"}
              onChange={(e) => (e.target.checked ? void client.alerts.enable() : client.alerts.disable())}
            />
            Desktop notifications while ChatTalk is in the background
            {notify === "blocked" ? " (blocked in this browser's site settings)" : ""}
          </label>
        )}
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </section>
      <DeleteAccount />
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

function DeleteAccount() {
  const { client } = useApp();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const headingId = useId();

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const password = String(new FormData(e.currentTarget).get("password") ?? "");
    if (!password) return setError("Enter your password.");
    setBusy(true);
    setError(undefined);
    try {
      await client.deleteAccount(password);
    } catch (err) {
      setBusy(false);
      setError(describeError(err));
    }
  }

  return (
    <section className="settings-section danger-zone" aria-labelledby={headingId}>
      <h3 id={headingId}>Delete your account</h3>
      <p className="hint">
        You leave every room and can't log in again. Your messages stay, shown as from “deleted user”.
      </p>
      {open ? (
        <form noValidate onSubmit={submit}>
          <Field
            name="password"
            label="Your password, to confirm"
            type="password"
            autoComplete="current-password"
            error={error}
            required
          />
          <div className="dialog-actions start">
            <button type="button" className="secondary" onClick={() => setOpen(false)}>
              Keep my account
            </button>
            <button type="submit" className="danger" disabled={busy}>
              {busy ? "Deleting…" : "Delete my account"}
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="secondary danger-text" onClick={() => setOpen(true)}>
          Delete account…
        </button>
      )}
    </section>
  );
}
