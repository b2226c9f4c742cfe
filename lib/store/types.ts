/** Users, rooms and memberships. Postgres in a cluster, bun:sqlite in the one-process default. */

export interface User {
  id: string;
  username: string;
  createdAt: string;
}

export interface UserWithSecret extends User {
  passwordHash: string;
}

/** A group room anyone may find and join (unless private), or the direct-message room of two users. */
export type RoomKind = "group" | "dm";

export interface Room {
  id: string;
  name: string;
  description: string;
  kind: RoomKind;
  /** Not listed in discovery; joined only through an invite link (DMs: never joined by others). */
  private: boolean;
  ownerId: string;
  maxMembers: number;
  memberCount: number;
  createdAt: string;
  /** DMs: the two users it is between (whether or not both are still members). */
  dmUsers?: [string, string];
}

/** What an owner may change about a room. */
export interface RoomChanges {
  name?: string;
  description?: string;
  maxMembers?: number;
  private?: boolean;
}

export interface Ban {
  id: string;
  username: string;
  bannedAt: string;
}

export interface UserSettings {
  /** Whether the user's read positions are shown to the other members ("seen by"). */
  readReceipts: boolean;
}

export interface Member {
  id: string;
  username: string;
  joinedAt: string;
}

/** A refresh token as stored: only its hash, and the family it rotates within. */
export interface RefreshTokenRecord {
  tokenHash: string;
  familyId: string;
  userId: string;
  expiresAt: string;
  /** Set when the token was exchanged for a new pair; a second use revokes the family (after the grace window). */
  usedAt: string | null;
  /** Who spent it (a fingerprint of the client, see refreshClientId): the grace window covers only them. */
  usedBy: string | null;
  revokedAt: string | null;
}

/** The first use of a refresh token: when, and by which client. */
export interface RefreshTokenUse {
  at: string;
  by: string | null;
}

export class ConflictError extends Error {
  constructor(
    readonly code:
      | "username_taken"
      | "username_confusable"
      | "room_full"
      | "already_member"
      | "below_member_count",
    message: string,
  ) {
    super(message);
  }
}

/** The store refused an action for who is asking: checked inside the same atomic operation as the change. */
export class ForbiddenError extends Error {
  override readonly name = "ForbiddenError";
  constructor(
    readonly code: "not_owner" | "not_member" | "banned" | "invite_required" | "not_joinable",
    message: string,
  ) {
    super(message);
  }
}

/** The room named in a join does not exist (any more). */
export class RoomNotFoundError extends Error {
  override readonly name = "RoomNotFoundError";
}

/** What a leave did: nothing (not a member), or the member is out and perhaps more changed. */
export type LeaveResult =
  | { left: false }
  | {
      left: true /** Set when the owner left: who owns the room now. */;
      newOwnerId: string | null;
      roomDeleted: boolean;
    };

export interface UserStore {
  /**
   * Stores the username normalised (see normalizeUsername) with its skeleton (usernameSkeleton).
   * Throws ConflictError("username_taken") when it exists, also when it belonged to a deleted account
   * (deleted usernames stay reserved), ("username_confusable") when a name that looks the same does.
   */
  createUser(username: string, passwordHash: string): Promise<User>;
  /** Looks up by the normalised form, so "Alice " finds "alice". Deleted accounts are not found. */
  findByUsername(username: string): Promise<UserWithSecret | null>;
  /** Null for unknown and for deleted accounts. */
  findById(id: string): Promise<User | null>;
  /** The accounts among `ids` that exist and are not deleted. */
  findByIds(ids: readonly string[]): Promise<User[]>;
  /**
   * Accounts whose normalised username starts with `prefix`, in code-point order, after the username
   * `after` (the previous page's last), at most `limit`. Deleted accounts are not listed.
   */
  search(prefix: string, page: { after?: string; limit: number }): Promise<User[]>;
  /**
   * Deletes the account: it can no longer log in or be found, its refresh tokens are gone, and its
   * username stays reserved. False when there was no such (undeleted) account.
   */
  deleteUser(id: string): Promise<boolean>;
  /** Null for unknown and deleted accounts. */
  getSettings(id: string): Promise<UserSettings | null>;
  /** False when there is no such account. */
  updateSettings(id: string, changes: Partial<UserSettings>): Promise<boolean>;
  /** Which of these users turned read receipts off. */
  withoutReadReceipts(ids: readonly string[]): Promise<Set<string>>;
  saveRefreshToken(record: Omit<RefreshTokenRecord, "usedAt" | "usedBy" | "revokedAt">): Promise<void>;
  /**
   * Records the first use (a later use leaves it as it was) and returns the token as it was before,
   * atomically; null if unknown.
   */
  useRefreshToken(tokenHash: string, use: RefreshTokenUse): Promise<RefreshTokenRecord | null>;
  revokeRefreshFamily(familyId: string): Promise<void>;
  /**
   * Whether a credential may still open sessions: the user exists and, when given, the refresh-token
   * family (the login) has not been revoked. Checked at every STOMP CONNECT (cached briefly).
   */
  sessionActive(userId: string, familyId?: string): Promise<boolean>;
}

export interface RoomStore {
  /** Creates a group room with its creator as first member. */
  createRoom(input: {
    name: string;
    description?: string;
    ownerId: string;
    maxMembers: number;
    private?: boolean;
  }): Promise<Room>;
  getRoom(roomId: string): Promise<Room | null>;
  /** Rooms the user is a member of, newest first. */
  listForMember(userId: string): Promise<Room[]>;
  /** Public rooms the user is not a member of, newest first, paged (never private rooms or DMs). */
  listDiscoverable(userId: string, opts: { limit: number; offset: number }): Promise<Room[]>;
  /**
   * Adds the user atomically against the cap: concurrent joins never exceed maxMembers, on either
   * adapter and across processes. In the same operation it refuses banned users (ForbiddenError
   * "banned"), DMs ("not_joinable") and private rooms unless `inviteGen` is the room's current invite
   * generation ("invite_required"). Throws ConflictError("room_full" | "already_member") or
   * RoomNotFoundError.
   */
  join(roomId: string, userId: string, readPosition: number, opts?: { inviteGen?: number }): Promise<Room>;
  /**
   * The one DM room of two users: created with both as members, or the existing one, to which `userId`
   * is added back if they had left (the other is not). Exactly one per pair, also when both open it at
   * once from several processes.
   */
  openDm(userId: string, peerId: string): Promise<{ room: Room; created: boolean; rejoined: boolean }>;
  /**
   * Owner only, checked atomically with the change (ForbiddenError "not_owner"). A new maxMembers is
   * never below the current member count (ConflictError "below_member_count"), exact under concurrent
   * joins. Throws RoomNotFoundError.
   */
  updateRoom(roomId: string, actorId: string, changes: RoomChanges): Promise<Room>;
  /**
   * Owner only, atomically: removes `userId` (if a member) and with `ban` records the ban so they
   * cannot join again. Throws ForbiddenError("not_owner") or RoomNotFoundError.
   */
  removeMember(
    roomId: string,
    actorId: string,
    userId: string,
    ban: boolean,
  ): Promise<{ removed: boolean; room: Room }>;
  /** Owner only: lifts a ban; false when there was none. */
  unban(roomId: string, actorId: string, userId: string): Promise<boolean>;
  bans(roomId: string): Promise<Ban[]>;
  /**
   * Owner only, atomically: `toUserId` must be a member (ForbiddenError "not_member"). Throws
   * ForbiddenError("not_owner") or RoomNotFoundError.
   */
  transferOwnership(roomId: string, actorId: string, toUserId: string): Promise<Room>;
  /** The room's invite generation: invite links name it, and it changes when the owner revokes them. */
  inviteGeneration(roomId: string): Promise<number | null>;
  /** Owner only: a new generation, so every earlier invite link stops working. */
  revokeInvites(roomId: string, actorId: string): Promise<number>;
  /**
   * Removes the member atomically. When the owner leaves, the longest-standing remaining member (the
   * first in `members`) becomes the owner; when nobody remains, the room is deleted.
   */
  leave(roomId: string, userId: string): Promise<LeaveResult>;
  /**
   * Deletes the room and its memberships; false if there was no such room. With `ownerId`, only while
   * that user owns it (checked atomically; ForbiddenError "not_owner" otherwise).
   */
  deleteRoom(roomId: string, ownerId?: string): Promise<boolean>;
  isMember(roomId: string, userId: string): Promise<boolean>;
  members(roomId: string): Promise<Member[]>;
  /** The user's read position in the room (highest seq seen), or null if not a member. */
  getReadPosition(roomId: string, userId: string): Promise<number | null>;
  /** Moves the read position forward only (max of old and new). */
  advanceReadPosition(roomId: string, userId: string, seq: number): Promise<void>;
  /**
   * Many read positions forward at once, in one statement per chunk and one transaction: what a node
   * saves once a second for every member who read something. Pairs that are not memberships are skipped.
   */
  advanceReadPositions(positions: readonly ReadPosition[]): Promise<void>;
  /** Read positions of all the user's rooms (for unread counts). */
  readPositions(userId: string): Promise<Map<string, number>>;
  /** Every member's read position in the room, by user id (for read receipts). */
  readPositionsIn(roomId: string): Promise<Map<string, number>>;
}

/** A member's read position in a room. */
export interface ReadPosition {
  roomId: string;
  userId: string;
  seq: number;
}

export interface Stores {
  users: UserStore;
  rooms: RoomStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}
