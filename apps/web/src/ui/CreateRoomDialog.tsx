import { type FormEvent, useState } from "react";
import { ApiError, describeError } from "../core/errors.ts";
import { roomPath } from "../core/router.ts";
import { useApp } from "./context.ts";
import { Dialog } from "./Dialog.tsx";
import { Field } from "./Field.tsx";

const CONTROL = /[\u0000-\u001f\u007f]/;

function check(name: string, max: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!name.trim()) errors.name = "Give the room a name.";
  else if (name.trim().length > 100) errors.name = "Use at most 100 characters.";
  else if (CONTROL.test(name)) errors.name = "Remove the control characters.";
  const n = Number(max);
  if (!max.trim() || !Number.isInteger(n)) errors.maxMembers = "Enter a whole number.";
  else if (n < 2 || n > 10_000) errors.maxMembers = "Use a number from 2 to 10,000.";
  return errors;
}

/** Create a room: checked as you go, the server's own field errors shown at the field. */
export function CreateRoomDialog({ onClose }: { onClose: () => void }) {
  const { client, router } = useApp();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [touched, setTouched] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function validate(form: HTMLFormElement) {
    const data = new FormData(form);
    return check(String(data.get("name") ?? ""), String(data.get("maxMembers") ?? ""));
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const found = validate(form);
    setTouched(true);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) {
      form.querySelector<HTMLInputElement>(`[name="${Object.keys(found)[0]}"]`)?.focus();
      return;
    }
    const data = new FormData(form);
    setBusy(true);
    try {
      const room = await client.createRoom(String(data.get("name")).trim(), Number(data.get("maxMembers")));
      onClose();
      router.go(roomPath(room.id));
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && Object.keys(err.fields).length) setErrors(err.fields);
      setFormError(describeError(err));
    }
  }

  return (
    <Dialog title="New room" onClose={onClose}>
      <form
        noValidate
        onSubmit={submit}
        onChange={(e) => {
          if (touched) setErrors(validate(e.currentTarget));
        }}
      >
        <Field
          name="name"
          label="Room name"
          maxLength={100}
          error={errors.name}
          autoComplete="off"
          required
        />
        <Field
          name="maxMembers"
          label="Maximum members"
          type="number"
          inputMode="numeric"
          min={2}
          max={10_000}
          defaultValue={50}
          hint="From 2 to 10,000"
          error={errors.maxMembers}
          required
        />
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Creating…" : "Create room"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
