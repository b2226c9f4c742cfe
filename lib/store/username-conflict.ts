import { ConflictError } from "./types.ts";

/** The refusal of a sign-up whose name, or a look-alike of it (same skeleton), exists. */
export function usernameConflict(exact: boolean): ConflictError {
  return exact
    ? new ConflictError("username_taken", "that username is taken")
    : new ConflictError("username_confusable", "that username looks like an existing one; choose another");
}
