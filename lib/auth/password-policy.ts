import { readFileSync } from "node:fs";
import { join } from "node:path";

let common: Set<string> | undefined;

/**
 * The most common passwords (lib/auth/common-passwords.txt: Django's list, from Royce Williams' top
 * 20,000; see scripts/generate-common-passwords.ts for source and licence), read on first use.
 */
function commonPasswords(): Set<string> {
  if (common) return common;
  const text = readFileSync(join(import.meta.dir, "common-passwords.txt"), "utf8");
  common = new Set(text.split("\n").filter((line) => line && !line.startsWith("#")));
  return common;
}

/** Fewer different characters than this is a repetition (`aaaaaaaa`, `abababab`, `abcdabcd`). */
const MIN_DISTINCT = 5;

/**
 * Why a new password is too easy to guess, or undefined when it is acceptable: one of the most common
 * passwords, a repetition of a few characters, a run with one step (`12345678`, `abcdefgh`,
 * `97531`), or containing the username. Length bounds are checked separately (PASSWORD_MIN/MAX).
 * Existing passwords are never re-checked: the policy applies when a password is chosen.
 */
export function passwordProblem(password: string, username?: string): string | undefined {
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) return "is one of the most common passwords; choose another";
  const chars = [...password];
  if (new Set(chars).size < MIN_DISTINCT) return "repeats too few different characters";
  const codes = chars.map((c) => c.codePointAt(0)!);
  const step = codes[1]! - codes[0]!;
  if (codes.every((c, i) => i === 0 || c - codes[i - 1]! === step)) return "is a simple sequence";
  if (username && username.length >= 3 && lower.includes(username.toLowerCase())) {
    return "must not contain your username";
  }
  return undefined;
}
