import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import type { ChatMessage } from "../core/api.ts";
import { describeError } from "../core/errors.ts";
import { useApp } from "./context.ts";
import { ConfirmDialog } from "./Dialog.tsx";

/**
 * What one may do with a message: edit (one's own) and delete (one's own, or any as the owner of a
 * group room). One "⋯" button per message opens them, so the keyboard does not tab through every
 * action of every message. Both changes come back as lines of the room's stream, for everyone alike.
 */
export function MessageActions(props: { message: ChatMessage; canEdit: boolean; onEdit: () => void }) {
  const { client } = useApp();
  const [open, setOpen] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const m = props.message;
  const mine = m.sender.id === client.me;

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await client.deleteMessage(m.roomId, m.seq);
      setConfirm(false);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="msg-actions" data-open={open || undefined}>
      <button
        type="button"
        className="icon"
        aria-expanded={open}
        aria-controls={id}
        aria-label={mine ? "Actions for your message" : `Actions for ${m.sender.username}'s message`}
        onClick={() => setOpen(!open)}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      <span id={id} hidden={!open}>
        {props.canEdit && (
          <button
            type="button"
            className="secondary small"
            onClick={() => {
              setOpen(false);
              props.onEdit();
            }}
          >
            Edit
          </button>
        )}
        <button type="button" className="secondary danger-text small" onClick={() => setConfirm(true)}>
          Delete
        </button>
      </span>
      {confirm && (
        <ConfirmDialog
          title="Delete this message?"
          confirm="Delete message"
          busy={busy}
          error={error}
          onConfirm={() => void remove()}
          onClose={() => {
            setConfirm(false);
            setOpen(false);
          }}
        >
          <p>
            {mine
              ? "It is removed for everyone in the room."
              : `${m.sender.username}'s message is removed for everyone in the room.`}
          </p>
          <blockquote className="quote">{m.text}</blockquote>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** Editing a message in place: Enter saves, Shift+Enter starts a new line, Escape cancels. */
export function MessageEditor(props: { message: ChatMessage; onDone: () => void }) {
  const { client } = useApp();
  const m = props.message;
  const [text, setText] = useState(m.text);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const id = useId();

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  async function save(e?: FormEvent) {
    e?.preventDefault();
    if (text === m.text) return props.onDone();
    if (!text.trim()) return setError("A message can't be empty. Delete it instead.");
    setBusy(true);
    setError(null);
    try {
      await client.editMessage(m.roomId, m.seq, text);
      props.onDone();
    } catch (err) {
      setBusy(false);
      setError(describeError(err));
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      props.onDone();
    } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void save();
    }
  }

  return (
    <form className="msg-editor" onSubmit={save}>
      <label htmlFor={id} className="visually-hidden">
        Edit your message
      </label>
      <textarea
        id={id}
        ref={box}
        value={text}
        rows={Math.min(6, text.split("\n").length)}
        aria-describedby={error ? `${id}-error` : undefined}
        aria-invalid={error ? true : undefined}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      {error && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="editor-actions">
        <button type="button" className="secondary small" onClick={props.onDone}>
          Cancel
        </button>
        <button type="submit" className="primary small" disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}
