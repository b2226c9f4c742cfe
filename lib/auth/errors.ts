/** Why a credential was refused. `expired` lets a client refresh and retry; the others cannot be fixed by retrying. */
export type AuthErrorReason = "missing" | "expired" | "invalid";

export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly reason: AuthErrorReason,
    message: string,
  ) {
    super(message);
  }
}
