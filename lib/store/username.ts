/**
 * Usernames are compared in one canonical form: NFKC (so full-width and compatibility forms fold
 * together), trimmed, lowercased. Uniqueness is enforced on that form by a database constraint.
 */
export function normalizeUsername(raw: string): string {
  return raw.normalize("NFKC").trim().toLowerCase();
}

/** 3–32 letters or digits (any script), '_', '.' or '-', checked on the normalised form. */
export const USERNAME_PATTERN = /^[\p{L}\p{Nd}_.-]{3,32}$/u;

export function isValidUsername(normalized: string): boolean {
  return USERNAME_PATTERN.test(normalized);
}
