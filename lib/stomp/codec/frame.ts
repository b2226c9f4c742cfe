/** STOMP protocol versions the codec understands; they differ only in header escaping. */
export type StompVersion = "1.0" | "1.1" | "1.2";

/**
 * Header names to values. Parsed frames use a null-prototype object (so a header named
 * `__proto__` or `constructor` is an ordinary key) and keep the first occurrence of a repeated header.
 */
export type Headers = Record<string, string>;

/** One STOMP frame. The body is raw bytes: `content-length` counts bytes and bodies may hold NULs. */
export interface Frame {
  command: string;
  headers: Headers;
  body: Uint8Array;
}

/** A fresh null-prototype header object. */
export function emptyHeaders(): Headers {
  return Object.create(null) as Headers;
}
