import { CONFUSABLES } from "./confusables-data.ts";

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

let prototypes: Map<string, string> | undefined;

/** Unicode's confusables table (lib/store/confusables-data.ts), parsed on first use. */
function prototypeTable(): Map<string, string> {
  if (prototypes) return prototypes;
  prototypes = new Map();
  for (const entry of CONFUSABLES.split(",")) {
    if (!entry) continue;
    const [source, target] = entry.split(":") as [string, string];
    const chars = target.split(" ").map((h) => String.fromCodePoint(Number.parseInt(h, 16)));
    prototypes.set(String.fromCodePoint(Number.parseInt(source, 16)), chars.join(""));
  }
  return prototypes;
}

function mapPrototypes(s: string): string {
  const table = prototypeTable();
  let out = "";
  for (const c of s) out += table.get(c) ?? c;
  return out;
}

/**
 * What a username looks like, for refusing look-alikes of existing names: Unicode TR39's skeleton
 * (NFD, each character to its confusables prototype, NFD again), then — stricter than TR39 —
 * without combining marks and lowercased, mapped once more. So `аlice` (Cyrillic а), `bоb`
 * (Cyrillic о), `a1ice` and `alicé` all share the skeleton of `alice`. Stored with a unique index.
 */
export function usernameSkeleton(normalized: string): string {
  const tr39 = mapPrototypes(normalized.normalize("NFD")).normalize("NFD");
  return mapPrototypes(tr39.replace(/\p{Mn}/gu, "").toLowerCase()).normalize("NFC");
}
