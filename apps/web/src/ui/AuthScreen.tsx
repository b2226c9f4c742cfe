import { type FormEvent, useId, useRef, useState } from "react";
import { ApiError, describeError } from "../core/errors.ts";
import { useApp } from "./context.ts";
import { Field } from "./Field.tsx";

const USERNAME = /^[\p{L}\p{Nd}_.-]{3,32}$/u;

function check(username: string, password: string): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = username.normalize("NFKC").trim();
  if (!name) errors.username = "Enter a username.";
  else if (!USERNAME.test(name)) errors.username = "Use 3 to 32 letters, digits, '_', '.' or '-'.";
  if (!password) errors.password = "Enter a password.";
  else if (password.length < 8) errors.password = "Use at least 8 characters.";
  else if (password.length > 128) errors.password = "Use at most 128 characters.";
  return errors;
}

/** Log in or create an account. The URL stays as it is, so a deep link opens once logged in. */
export function AuthScreen({ ended }: { ended: string | null }) {
  const { client } = useApp();
  const [mode, setMode] = useState<"login" | "signup">("login");
  const [fields, setFields] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const titleId = useId();

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const username = String(data.get("username") ?? "");
    const password = String(data.get("password") ?? "");
    const errors = check(username, password);
    setFields(errors);
    setFormError(null);
    if (Object.keys(errors).length) {
      form.current?.querySelector<HTMLInputElement>(`[name="${Object.keys(errors)[0]}"]`)?.focus();
      return;
    }
    setBusy(true);
    try {
      client.session.begin(await client.api.auth(mode, username, password));
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && Object.keys(err.fields).length) setFields(err.fields);
      setFormError(describeError(err));
    }
  }

  const signup = mode === "signup";
  return (
    <main className="auth" aria-labelledby={titleId}>
      <div className="auth-card">
        <p className="brand" aria-hidden="true">
          ChatTalk
        </p>
        <h1 id={titleId}>{signup ? "Create your account" : "Log in to ChatTalk"}</h1>
        {ended && (
          <p className="notice" role="alert">
            {ended}
          </p>
        )}
        <form ref={form} noValidate onSubmit={submit}>
          <Field
            name="username"
            label="Username"
            hint="3 to 32 letters, digits, '_', '.' or '-'"
            error={fields.username}
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
          />
          <Field
            name="password"
            label="Password"
            type="password"
            hint={signup ? "At least 8 characters" : undefined}
            error={fields.password}
            autoComplete={signup ? "new-password" : "current-password"}
            required
          />
          {formError && (
            <p className="form-error" role="alert">
              {formError}
            </p>
          )}
          <button type="submit" className="primary wide" disabled={busy}>
            {busy ? "Please wait…" : signup ? "Create account" : "Log in"}
          </button>
        </form>
        <p className="switch">
          {signup ? "Already have an account?" : "New to ChatTalk?"}{" "}
          <button
            type="button"
            className="link"
            onClick={() => {
              setMode(signup ? "login" : "signup");
              setFields({});
              setFormError(null);
            }}
          >
            {signup ? "Log in" : "Create an account"}
          </button>
        </p>
      </div>
    </main>
  );
}
