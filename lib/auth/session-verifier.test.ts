import { describe, expect, test } from "bun:test";
import { AuthError } from "./errors.ts";
import { createSessionVerifier } from "./session-verifier.ts";

/** A store whose answers the test sets, counting the questions. */
function fakeStore() {
  const active = new Map<string, boolean>();
  let asked = 0;
  return {
    active,
    asked: () => asked,
    users: {
      sessionActive: async (userId: string, familyId?: string) => {
        asked++;
        return active.get(`${userId}/${familyId ?? ""}`) ?? false;
      },
    },
  };
}
const tokens = {
  verifyAccessToken: async (t: string | null | undefined) => {
    const [userId, familyId] = (t ?? "").split("/");
    return { userId: userId!, username: userId!, ...(familyId ? { familyId } : {}) };
  },
};

describe("session verifier", () => {
  test("refuses a token whose user is gone or whose login was revoked", async () => {
    const store = fakeStore();
    store.active.set("u1/f1", true);
    const verify = createSessionVerifier({ tokens, users: store.users });
    expect((await verify("u1/f1")).userId).toBe("u1");
    const err = await verify("u2/f1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).message).toContain("log in again");
  });

  test("caches the store's answer briefly, per user and login; forget(userId) drops it", async () => {
    let clock = 0;
    const store = fakeStore();
    store.active.set("u1/f1", true);
    const verify = createSessionVerifier({ tokens, users: store.users, cacheMs: 1000, now: () => clock });
    await verify("u1/f1");
    await verify("u1/f1");
    expect(store.asked()).toBe(1);
    store.active.set("u1/f1", false); // logged out
    verify.forget("u1");
    expect(await verify("u1/f1").catch(() => "refused")).toBe("refused");
    store.active.set("u1/f2", true);
    expect((await verify("u1/f2")).familyId).toBe("f2");
    clock += 1001;
    store.active.set("u1/f2", false);
    expect(await verify("u1/f2").catch(() => "refused")).toBe("refused");
  });

  test("keeps at most maxUsers users' answers, dropping the one cached first", async () => {
    const store = fakeStore();
    for (const u of ["a", "b", "c"]) store.active.set(`${u}/f`, true);
    const verify = createSessionVerifier({ tokens, users: store.users, maxUsers: 2 });
    await verify("a/f");
    await verify("b/f");
    await verify("a/f"); // cached: asking again does not make it newer
    expect(store.asked()).toBe(2);
    await verify("c/f"); // a goes
    await verify("b/f");
    expect(store.asked()).toBe(3);
    await verify("a/f");
    expect(store.asked()).toBe(4);
  });
});
