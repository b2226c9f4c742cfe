import type { User, UserSettings } from "../store/types.ts";
import { normalizeUsername } from "../store/username.ts";
import type { Actor, ChatContext } from "./context.ts";
import { ChatError } from "./errors.ts";
import type { UserRef } from "./message.ts";
import type { Rooms } from "./rooms.ts";

/** People: finding them by name, each user's own settings, and deleting one's account. */
export class Users {
  constructor(
    private readonly c: ChatContext,
    private readonly rooms: Rooms,
  ) {}

  /**
   * Deletes the caller's account: they leave every room as a leave would (ownership passes on, each
   * removal revoking their subscriptions), their lines in each room reading "deleted user" from then on;
   * then the account is gone (no login, no refresh, no session at CONNECT, its username reserved so
   * nobody can pass as them). A failure part-way leaves the account in place, so asking again finishes
   * it. The caller then ends the account's live sessions (sessionsRevoked "account-deleted").
   */
  async deleteAccount(actor: Actor): Promise<void> {
    await this.c.activeActor(actor);
    await this.rooms.departAll(actor);
    await this.c.ports.users.deleteUser(actor.userId);
  }

  /**
   * Users whose (normalised) username starts with `prefix`, a page at a time in code-point order;
   * `next` is the cursor for the following page, absent on the last.
   */
  async search(
    _actor: Actor,
    prefix: string,
    page: { after?: string; limit: number },
  ): Promise<{ users: UserRef[]; next?: string }> {
    // One more than asked tells whether another page follows.
    const found = await this.c.ports.users.search(normalizeUsername(prefix), {
      ...page,
      limit: page.limit + 1,
    });
    const users = found.slice(0, page.limit).map((u: User) => ({ id: u.id, username: u.username }));
    return found.length > page.limit ? { users, next: users.at(-1)!.username } : { users };
  }

  async settings(actor: Actor): Promise<UserSettings> {
    const settings = await this.c.ports.users.getSettings(actor.userId);
    if (!settings) throw gone();
    return settings;
  }

  async updateSettings(actor: Actor, changes: Partial<UserSettings>): Promise<UserSettings> {
    if (!(await this.c.ports.users.updateSettings(actor.userId, changes))) throw gone();
    return this.settings(actor);
  }
}

const gone = () => new ChatError("gone", "user_gone", "this account no longer exists");
