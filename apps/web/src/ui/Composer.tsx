import { type FormEvent, type KeyboardEvent, useRef, useState } from "react";
import { useApp } from "./context.ts";

/** The server's default MESSAGE_MAX_CHARS; longer text is refused there too. */
const MAX_CHARS = 4000;
const MAX_HEIGHT_PX = 160;

/**
 * The message box. Enter sends, Shift+Enter starts a new line. Sending never waits: the text goes
 * to the outbox, which shows it at once and delivers it when it can. Typing tells the room (see
 * TypingSender: a signal every few seconds at most, not one per keystroke).
 */
export function Composer(props: { roomName: string; disabled: boolean }) {
  const { client } = useApp();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);

  function grow() {
    const el = box.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }

  function submit(e?: FormEvent) {
    e?.preventDefault();
    const value = box.current?.value ?? text;
    if (!value.trim()) return;
    if (value.length > MAX_CHARS) {
      setError(`Messages can be at most ${MAX_CHARS.toLocaleString()} characters.`);
      return;
    }
    client.send(value);
    setText("");
    setError(null);
    if (box.current) box.current.value = "";
    requestAnimationFrame(grow);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="composer" className="visually-hidden">
        Message {props.roomName}
      </label>
      <textarea
        id="composer"
        ref={box}
        rows={1}
        value={text}
        disabled={props.disabled}
        placeholder={`Message ${props.roomName}`}
        enterKeyHint="send"
        aria-describedby={error ? "composer-error" : undefined}
        aria-invalid={error ? true : undefined}
        onChange={(e) => {
          setText(e.target.value);
          grow();
          client.typing(e.target.value === "");
        }}
        onKeyDown={onKeyDown}
      />
      <button type="submit" className="primary send" disabled={props.disabled}>
        Send
      </button>
      {error && (
        <p id="composer-error" className="field-error composer-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
