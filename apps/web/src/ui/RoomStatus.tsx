import { useMemo } from "react";
import type { RoomView } from "../core/chat.ts";
import { seenBy, typingText } from "../core/signals.ts";
import { useApp, useStore } from "./context.ts";

/** Names beyond this many are counted, not listed. */
const SEEN_NAMES = 3;

/**
 * The line under the messages: who is typing (read out to screen readers), and who has seen the
 * newest message. It always takes its line, so the list above does not jump as it changes.
 */
export function RoomStatus({ view }: { view: RoomView }) {
  const { client } = useApp();
  const typing = useStore(view.signals!.typing);
  const read = useStore(view.signals!.read);
  const roster = useStore(view.roster!.state);
  const timeline = useStore(view.timeline!.state);
  const me = client.me ?? "";

  const seen = useMemo(() => {
    const last = timeline.messages.findLast((m) => m.type === "message" && !m.deletedAt);
    if (!last) return "";
    const names = seenBy(last.seq, read, roster.members, me, last.sender.id);
    if (names.length === 0) return "";
    const everyone = roster.members.length - (last.sender.id === me ? 1 : 2);
    if (names.length === everyone && everyone > SEEN_NAMES) return "Seen by everyone";
    if (names.length > SEEN_NAMES)
      return `Seen by ${names.slice(0, SEEN_NAMES).join(", ")} and ${names.length - SEEN_NAMES} more`;
    return `Seen by ${names.join(", ")}`;
  }, [timeline.messages, read, roster.members, me]);

  return (
    <div className="room-status">
      <p className="typing" aria-live="polite">
        {typingText(typing)}
      </p>
      {seen && <p className="seen">{seen}</p>}
    </div>
  );
}
