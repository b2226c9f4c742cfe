import { timingSafeEqual } from "node:crypto";
import { ChatError } from "./errors.ts";

/** What an invite link names: a room, the invite generation it was made in, and when it expires. */
export interface Invite {
  roomId: string;
  generation: number;
  /** Seconds since the epoch. */
  expiresAt: number;
}

const FORMAT = /^([0-9A-Za-z_-]{1,64})\.(\d{1,12})\.(\d{1,9})\.([0-9A-Za-z_-]{43})$/;

/**
 * Invite links as signed, expiring tokens: `<roomId>.<expiresAt>.<generation>.<HMAC-SHA256>`. No
 * table of links: the signature proves the owner made it, the expiry bounds it, and the room's
 * generation (which the owner moves on to revoke every link at once) makes it revocable.
 */
export class InviteTokens {
  private readonly key: Uint8Array;

  /** `secret`: the installation's signing secret; a key for invites alone is derived from it. */
  constructor(secret: Uint8Array) {
    this.key = new Uint8Array(
      new Bun.CryptoHasher("sha256", secret).update("chattalk invite links v1").digest(),
    );
  }

  issue(invite: Invite): string {
    const payload = `${invite.roomId}.${invite.expiresAt}.${invite.generation}`;
    return `${payload}.${this.sign(payload)}`;
  }

  /** The invite a token names; refuses malformed or forged tokens and expired ones. */
  verify(token: string, nowSec: number): Invite {
    const m = FORMAT.exec(token);
    const invalid = () => new ChatError("invalid", "invite_invalid", "this is not a valid invite link");
    if (!m) throw invalid();
    const payload = `${m[1]}.${m[2]}.${m[3]}`;
    const given = Buffer.from(m[4]!, "base64url");
    const expected = Buffer.from(this.sign(payload), "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    const invite = { roomId: m[1]!, expiresAt: Number(m[2]), generation: Number(m[3]) };
    if (invite.expiresAt <= nowSec) {
      throw new ChatError("forbidden", "invite_expired", "this invite link has expired");
    }
    return invite;
  }

  private sign(payload: string): string {
    return Buffer.from(new Bun.CryptoHasher("sha256", this.key).update(payload).digest()).toString(
      "base64url",
    );
  }
}
