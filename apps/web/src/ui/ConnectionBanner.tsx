import { useEffect, useState } from "react";
import { useApp, useStore } from "./context.ts";

/** How long a first connect may take before saying so (avoids a flash on every page load). */
const QUIET_MS = 1500;

/** Connecting / reconnecting in N s · Retry now / offline — and how many messages wait to go out. */
export function ConnectionBanner() {
  const { client } = useApp();
  const state = useStore(client.chat.state);
  const outbox = useStore(client.outbox.items);
  const waiting = outbox.filter((i) => i.state === "queued" || i.state === "sending").length;
  const now = useTicker(state.kind === "waiting");
  const [patient, setPatient] = useState(false);

  useEffect(() => {
    if (state.kind !== "connecting" || state.attempt > 0) return setPatient(false);
    const t = setTimeout(() => setPatient(true), QUIET_MS);
    return () => clearTimeout(t);
  }, [state]);

  let text: string | null = null;
  let retry = false;
  if (state.kind === "waiting") {
    const secs = Math.max(1, Math.ceil((state.retryAt - now) / 1000));
    text = state.offline ? "You're offline." : `Connection lost. Reconnecting in ${secs} s…`;
    retry = true;
  } else if (state.kind === "connecting" && (state.attempt > 0 || patient)) {
    text = "Connecting…";
  }
  if (text && waiting > 0) {
    text += ` ${waiting === 1 ? "1 message waits" : `${waiting} messages wait`} to be sent.`;
  }

  return (
    <div
      className="banner"
      role="status"
      data-state={state.kind}
      data-retry-at={state.kind === "waiting" ? state.retryAt : undefined}
      hidden={!text}
    >
      {text && <span>{text}</span>}
      {retry && (
        <button type="button" className="link" onClick={() => client.chat.retryNow()}>
          Retry now
        </button>
      )}
    </div>
  );
}

/** The current time, updated every second while `on`. */
function useTicker(on: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}
