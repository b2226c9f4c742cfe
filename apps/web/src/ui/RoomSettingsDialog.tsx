import { type FormEvent, useEffect, useId, useState } from "react";
import type { Ban, Room, RoomChanges, UserRef } from "../core/api.ts";
import { ApiError, describeError } from "../core/errors.ts";
import { inviteUrl } from "../core/router.ts";
import { useApp } from "./context.ts";
import { ConfirmDialog, Dialog } from "./Dialog.tsx";
import { Field } from "./Field.tsx";

/**
 * The owner's dialog: the room's details, invite links, members (remove, ban, hand over) and bans.
 * `members` is the open room's live member list (it follows joins and leaves as they happen).
 */
export function RoomSettingsDialog(props: {
  room: Room;
  members: UserRef[];
  onClose: () => void;
  /** Asks to delete the room (the room screen's confirmation). */
  onDelete: () => void;
}) {
  const { room, onClose } = props;
  return (
    <Dialog title={`${room.name} settings`} className="dialog wide-dialog" onClose={onClose}>
      <DetailsForm room={room} />
      <InviteLinks room={room} />
      <Members room={room} members={props.members} onHandedOver={onClose} />
      <section className="settings-section danger-zone" aria-label="Delete the room">
        <button type="button" className="secondary danger-text" onClick={props.onDelete}>
          Delete this room…
        </button>
      </section>
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}

function DetailsForm({ room }: { room: Room }) {
  const { client } = useApp();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const name = String(data.get("name") ?? "").trim();
    const description = String(data.get("description") ?? "").trim();
    const max = Number(data.get("maxMembers"));
    const found: Record<string, string> = {};
    if (!name) found.name = "Give the room a name.";
    if (!Number.isInteger(max) || max < 2 || max > 10_000)
      found.maxMembers = "Use a number from 2 to 10,000.";
    else if (max < room.memberCount) found.maxMembers = `It has ${room.memberCount} members already.`;
    setErrors(found);
    setStatus(null);
    if (Object.keys(found).length) return;
    const changes: RoomChanges = {};
    if (name !== room.name) changes.name = name;
    if (description !== (room.description ?? "")) changes.description = description;
    if (max !== room.maxMembers) changes.maxMembers = max;
    const priv = data.get("private") === "on";
    if (priv !== Boolean(room.private)) changes.private = priv;
    if (Object.keys(changes).length === 0) return setStatus("Nothing to save.");
    setBusy(true);
    try {
      await client.updateRoom(room.id, changes);
      setStatus("Saved.");
    } catch (err) {
      if (err instanceof ApiError && err.code === "below_member_count") {
        setErrors({ maxMembers: describeError(err) });
      } else {
        if (err instanceof ApiError) setErrors(err.fields);
        setStatus(describeError(err));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <form noValidate onSubmit={save} className="settings-section" aria-label="Room details">
      <Field
        name="name"
        label="Room name"
        defaultValue={room.name}
        maxLength={100}
        error={errors.name}
        required
      />
      <Field
        name="description"
        label="Description"
        defaultValue={room.description ?? ""}
        maxLength={500}
        hint="Optional: what the room is for"
        error={errors.description}
      />
      <Field
        name="maxMembers"
        label="Maximum members"
        type="number"
        inputMode="numeric"
        min={Math.max(2, room.memberCount)}
        max={10_000}
        defaultValue={room.maxMembers}
        hint={`From ${Math.max(2, room.memberCount)} (its members now) to 10,000`}
        error={errors.maxMembers}
      />
      <label className="check">
        <input type="checkbox" name="private" defaultChecked={Boolean(room.private)} />
        Private: hidden from Discover, joined only with an invite link
      </label>
      <div className="dialog-actions">
        {status && (
          <p className="hint" role="status">
            {status}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : "Save changes"}
        </button>
      </div>
    </form>
  );
}

function InviteLinks({ room }: { room: Room }) {
  const { client } = useApp();
  const [link, setLink] = useState<{ url: string; expiresAt: string } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const headingId = useId();

  async function run(action: () => Promise<void>) {
    setStatus(null);
    try {
      await action();
    } catch (err) {
      setStatus(describeError(err));
    }
  }

  return (
    <section className="settings-section" aria-labelledby={headingId}>
      <h3 id={headingId}>Invite link</h3>
      <p className="hint">
        Anyone with a link can join{room.private ? " this private room" : ""} until it expires (7 days).
      </p>
      {link && (
        <div className="invite-link">
          <Field
            name="invite"
            label="Link to share"
            value={link.url}
            readOnly
            onFocus={(e) => e.currentTarget.select()}
          />
          <button
            type="button"
            className="secondary small"
            onClick={() =>
              void run(async () => {
                await navigator.clipboard.writeText(link.url);
                setStatus("Copied.");
              })
            }
          >
            Copy link
          </button>
        </div>
      )}
      <div className="dialog-actions start">
        <button
          type="button"
          className="secondary"
          onClick={() =>
            void run(async () => {
              const invite = await client.api.createInvite(room.id);
              setLink({ url: inviteUrl(location.origin, invite.token), expiresAt: invite.expiresAt });
            })
          }
        >
          {link ? "Make another link" : "Make an invite link"}
        </button>
        <button
          type="button"
          className="secondary danger-text"
          onClick={() =>
            void run(async () => {
              await client.api.revokeInvites(room.id);
              setLink(null);
              setStatus("Every invite link made so far stopped working.");
            })
          }
        >
          Withdraw all links
        </button>
      </div>
      {status && (
        <p className="hint" role="status">
          {status}
        </p>
      )}
    </section>
  );
}

type MemberAction = { kind: "remove" | "ban" | "owner"; member: UserRef };

function Members(props: { room: Room; members: UserRef[]; onHandedOver: () => void }) {
  const { room, members, onHandedOver } = props;
  const { client } = useApp();
  const [bans, setBans] = useState<Ban[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [action, setAction] = useState<MemberAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const membersId = useId();
  const bansId = useId();

  const load = () => client.api.bans(room.id).then(setBans, (err) => setError(describeError(err)));
  // biome-ignore lint/correctness/useExhaustiveDependencies: loaded once per room
  useEffect(() => void load(), [room.id]);

  async function act(a: MemberAction) {
    setBusy(true);
    setActionError(null);
    try {
      if (a.kind === "remove") await client.api.removeMember(room.id, a.member.id);
      else if (a.kind === "ban") await client.api.ban(room.id, a.member.id);
      else await client.transfer(room.id, a.member.id);
      setAction(null);
      if (a.kind === "owner") return onHandedOver();
      await load();
    } catch (err) {
      setActionError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  const others = members.filter((m) => m.id !== client.me);
  return (
    <>
      <section className="settings-section" aria-labelledby={membersId}>
        <h3 id={membersId}>Members</h3>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        {others.length === 0 && <p className="hint">Nobody else has joined yet.</p>}
        <ul className="member-list">
          {others.map((m) => (
            <li key={m.id}>
              <span className="member-name">{m.username}</span>
              <button
                type="button"
                className="secondary small"
                aria-label={`Make ${m.username} the owner`}
                onClick={() => setAction({ kind: "owner", member: m })}
              >
                Make owner
              </button>
              <button
                type="button"
                className="secondary small"
                aria-label={`Remove ${m.username}`}
                onClick={() => setAction({ kind: "remove", member: m })}
              >
                Remove
              </button>
              <button
                type="button"
                className="secondary danger-text small"
                aria-label={`Ban ${m.username}`}
                onClick={() => setAction({ kind: "ban", member: m })}
              >
                Ban
              </button>
            </li>
          ))}
        </ul>
      </section>
      {bans.length > 0 && (
        <section className="settings-section" aria-labelledby={bansId}>
          <h3 id={bansId}>Banned</h3>
          <ul className="member-list">
            {bans.map((b) => (
              <li key={b.id}>
                <span className="member-name">{b.username}</span>
                <button
                  type="button"
                  className="secondary small"
                  aria-label={`Lift the ban on ${b.username}`}
                  onClick={() =>
                    client.api.unban(room.id, b.id).then(load, (err) => setError(describeError(err)))
                  }
                >
                  Lift ban
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {action && (
        <ConfirmDialog
          title={
            action.kind === "owner"
              ? `Make ${action.member.username} the owner?`
              : action.kind === "ban"
                ? `Ban ${action.member.username}?`
                : `Remove ${action.member.username}?`
          }
          confirm={action.kind === "owner" ? "Hand over" : action.kind === "ban" ? "Ban" : "Remove"}
          busy={busy}
          error={actionError}
          onConfirm={() => void act(action)}
          onClose={() => {
            setAction(null);
            setActionError(null);
          }}
        >
          <p>
            {action.kind === "owner"
              ? `${action.member.username} can then change the room, remove people and delete it; you stay a member.`
              : action.kind === "ban"
                ? `${action.member.username} leaves the room at once and can't join it again until you lift the ban.`
                : `${action.member.username} leaves the room at once. They can join again${room.private ? " with an invite link" : ""}.`}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
