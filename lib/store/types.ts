/** Users, rooms and memberships. Postgres in a cluster, bun:sqlite in the one-process default. */

export interface User {
  id: string;
  username: string;
  createdAt: string;
}

export interface UserWithSecret extends User {
  passwordHash: string;
}

export interface Room {
  id: string;
  name: string;
  ownerId: string;
  maxMembers: number;
  memberCount: number;
  createdAt: string;
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
    readonly code: "username_taken" | "username_confusable" | "room_full" | "already_member",
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
   * Throws ConflictError("username_taken") when it exists, ("username_confusable") when a name that
   * looks the same does.
   */
  createUser(username: string, passwordHash: string): Promise<User>;
  /** Looks up by the normalised form, so "Alice " finds "alice". */
  findByUsername(username: string): Promise<UserWithSecret | null>;
  findById(id: string): Promise<User | null>;
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
  /** Creates the room with its creator as first member. */
  createRoom(input: { name: string; ownerId: string; maxMembers: number }): Promise<Room>;
  getRoom(roomId: string): Promise<Room | null>;
  /** Rooms the user is a member of, newest first. */
  listForMember(userId: string): Promise<Room[]>;
  /** Rooms the user is not a member of, newest first, paged. */
  listDiscoverable(userId: string, opts: { limit: number; offset: number }): Promise<Room[]>;
  /**
   * Adds the user atomically against the cap: concurrent joins never exceed maxMembers, on either
   * adapter and across processes. Throws ConflictError("room_full" | "already_member") or
   * RoomNotFoundError.
   */
  join(roomId: string, userId: string, readPosition: number): Promise<Room>;
  /**
   * Removes the member atomically. When the owner leaves, the longest-standing remaining member (the
   * first in `members`) becomes the owner; when nobody remains, the room is deleted.
   */
  leave(roomId: string, userId: string): Promise<LeaveResult>;
  /** Deletes the room and its memberships; false if there was no such room. */
  deleteRoom(roomId: string): Promise<boolean>;
  isMember(roomId: string, userId: string): Promise<boolean>;
  members(roomId: string): Promise<Member[]>;
  /** The user's read position in the room (highest seq seen), or null if not a member. */
  getReadPosition(roomId: string, userId: string): Promise<number | null>;
  /** Moves the read position forward only (max of old and new). */
  advanceReadPosition(roomId: string, userId: string, seq: number): Promise<void>;
  /** Read positions of all the user's rooms (for unread counts). */
  readPositions(userId: string): Promise<Map<string, number>>;
}

export interface Stores {
  users: UserStore;
  rooms: RoomStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}
