import { afterEach, describe, expect, test } from "bun:test";
import { createPasswordHasher } from "../../../lib/auth/password.ts";
import { createTokenService } from "../../../lib/auth/tokens.ts";
import { silentLogger } from "../../../lib/log/index.ts";
import { createRedisLimiterFactory } from "../../../lib/ratelimit/redis.ts";
import { TEST_PASSWORD } from "../../../testkit/credentials.ts";
import { startTestApi, type TestApi, uniqueName } from "../../../testkit/http-api.ts";
import { serviceUrl, skipWithout } from "../../../testkit/services.ts";

let api: TestApi;
afterEach(async () => {
  await api?.dispose();
});

describe("POST /api/auth/signup", () => {
  test("201 with the user and a token pair; the username is normalised", async () => {
    api = await startTestApi();
    const name = uniqueName("Alice");
    const res = await api.call("POST", "/api/auth/signup", {
      body: { username: ` ${name} `, password: TEST_PASSWORD },
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.any(String), username: name.toLowerCase() });
    expect(res.body.tokenType).toBe("Bearer");
    expect(res.body.expiresIn).toBe(900);
    expect(await api.tokens.verifyAccessToken(res.body.accessToken)).toMatchObject({
      userId: res.body.user.id,
      username: name.toLowerCase(),
    });
    expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await api.stores.users.findByUsername(name);
    expect(stored?.passwordHash.startsWith("$argon2id$")).toBe(true);
  });

  test("400 names each bad field", async () => {
    api = await startTestApi();
    const res = await api.call("POST", "/api/auth/signup", { body: { username: "a!", password: "short" } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(Object.keys(res.body.error.fields).sort()).toEqual(["password", "username"]);
    expect(res.body.error.fields.password).toContain("at least 8");
    const long = await api.call("POST", "/api/auth/signup", {
      body: { username: "bob", password: "x".repeat(129) },
    });
    expect(long.body.error.fields.password).toContain("at most 128");
    const missing = await api.call("POST", "/api/auth/signup", { body: {} });
    expect(Object.keys(missing.body.error.fields).sort()).toEqual(["password", "username"]);
  });

  test("400 for malformed JSON, 415 for another content type, in the same error shape", async () => {
    api = await startTestApi();
    const res = await api.call("POST", "/api/auth/signup", { body: "{nope" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("bad_request");
    const noType = await api.call("POST", "/api/auth/signup", {
      body: "username=a",
      headers: { "content-type": "text/plain" },
    });
    expect(noType.status).toBe(415);
    expect(noType.body.error.code).toBe("unsupported_media_type");
  });

  test("409 username_taken, also for another case or width of the same name", async () => {
    api = await startTestApi();
    const name = uniqueName("carol");
    await api.signup(name);
    const res = await api.call("POST", "/api/auth/signup", {
      body: { username: name.toUpperCase(), password: TEST_PASSWORD },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("username_taken");
  });
});

describe("POST /api/auth/signup look-alikes", () => {
  test("409 username_confusable for `аlice` (Cyrillic а), `bоb` and `alicé` next to alice and bob", async () => {
    api = await startTestApi();
    const tail = uniqueName("");
    await api.signup(`alice${tail}`);
    await api.signup(`bob${tail}`);
    for (const name of [`\u0430lice${tail}`, `b\u043eb${tail}`, `alic\u00e9${tail}`]) {
      const res = await api.call("POST", "/api/auth/signup", {
        body: { username: name, password: TEST_PASSWORD },
        ip: "192.0.2.77",
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("username_confusable");
    }
  });
});

describe("POST /api/auth/login", () => {
  test("200 with a token pair for the right password, any case of the username", async () => {
    api = await startTestApi();
    const { user } = await api.signup();
    const res = await api.call("POST", "/api/auth/login", {
      body: { username: user.username.toUpperCase(), password: TEST_PASSWORD },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(user);
    expect((await api.tokens.verifyAccessToken(res.body.accessToken)).userId).toBe(user.id);
  });

  test("401 invalid_credentials for a wrong password or an unknown user, with the same answer", async () => {
    api = await startTestApi();
    const { user } = await api.signup();
    const wrong = await api.call("POST", "/api/auth/login", {
      body: { username: user.username, password: "wrong-pass" },
    });
    const unknown = await api.call("POST", "/api/auth/login", {
      body: { username: "nobody-x", password: TEST_PASSWORD },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe("invalid_credentials");
  });

  test("400 with field reasons", async () => {
    api = await startTestApi();
    const res = await api.call("POST", "/api/auth/login", { body: { username: "ab" } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.fields).sort()).toEqual(["password", "username"]);
  });

  test("wrong passwords from one address limit that address only: the owner logs in from another", async () => {
    let clock = 1_000_000;
    api = await startTestApi({ now: () => clock });
    const { user } = await api.signup();
    const attempt = (password: string, ip: string) =>
      api.call("POST", "/api/auth/login", { body: { username: user.username, password }, ip });
    for (let i = 0; i < 5; i++) expect((await attempt("bad-password", "198.51.100.1")).status).toBe(401);
    const limited = await attempt("bad-password", "198.51.100.1");
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(limited.headers.get("retry-after")).toBe("20");
    // The account's owner, from their own address, is not locked out by someone else's guesses.
    expect((await attempt(TEST_PASSWORD, "203.0.113.50")).status).toBe(200);
    // Nor, after the wait, is the guesser's address for good.
    clock += 20_000;
    expect((await attempt(TEST_PASSWORD, "198.51.100.1")).status).toBe(200);
  });

  test("guesses from many addresses empty the username's backstop: then each address gets one try per window", async () => {
    let clock = 2_000_000;
    api = await startTestApi({
      now: () => clock,
      env: {
        LOGIN_USERNAME_BURST: "3",
        LOGIN_USERNAME_REFILL_SEC: "3600",
        LOGIN_UNDER_ATTACK_REFILL_SEC: "300",
      },
    });
    const { user } = await api.signup();
    const attempt = (password: string, ip: string) =>
      api.call("POST", "/api/auth/login", { body: { username: user.username, password }, ip });
    for (const ip of ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) {
      expect((await attempt("bad-password", ip)).status).toBe(401);
    }
    // Backstop empty. A guesser's address has one more try in this window, then waits.
    expect((await attempt("bad-password", "198.51.100.1")).status).toBe(401);
    const held = await attempt("bad-password", "198.51.100.1");
    expect(held.status).toBe(429);
    expect(held.headers.get("retry-after")).toBe("300");
    // The owner from a new address passes with the right password, first try.
    expect((await attempt(TEST_PASSWORD, "203.0.113.7")).status).toBe(200);
    // A typo from a new address during the attack costs that address the window.
    expect((await attempt("bad-password", "203.0.113.8")).status).toBe(401);
    expect((await attempt(TEST_PASSWORD, "203.0.113.8")).status).toBe(429);
    clock += 300_000;
    expect((await attempt(TEST_PASSWORD, "203.0.113.8")).status).toBe(200);
  });

  test("503 busy with Retry-After when the password pool is full; other routes keep answering", async () => {
    api = await startTestApi({
      // One hash at a time and nobody waiting: a second concurrent login is refused at once.
      passwords: createPasswordHasher({ memoryCost: 16 * 1024, timeCost: 2, concurrency: 1, queueLimit: 0 }),
    });
    const { user } = await api.signup();
    const login = (i: number) =>
      api.call("POST", "/api/auth/login", {
        body: { username: user.username, password: TEST_PASSWORD },
        ip: `198.51.100.${i}`,
      });
    const health = api.call("GET", "/healthz");
    const results = await Promise.all([1, 2, 3].map(login));
    expect(results.map((r) => r.status).sort()).toEqual([200, 503, 503]);
    for (const busy of results.filter((r) => r.status === 503)) {
      expect(busy.body.error.code).toBe("busy");
      expect(Number(busy.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    expect((await health).status).toBe(200);
    expect((await login(4)).status).toBe(200);
  });

  test("a login refused as busy keeps the attempts of the (username, address) pair and of the address", async () => {
    api = await startTestApi({
      now: () => 1_000,
      env: {
        LOGIN_PAIR_BURST: "3",
        LOGIN_PAIR_REFILL_SEC: "60",
        LOGIN_IP_BURST: "3",
        LOGIN_IP_REFILL_SEC: "60",
      },
      passwords: createPasswordHasher({ memoryCost: 16 * 1024, timeCost: 2, concurrency: 1, queueLimit: 0 }),
    });
    const { user } = await api.signup();
    const login = () =>
      api.call("POST", "/api/auth/login", {
        body: { username: user.username, password: TEST_PASSWORD },
        ip: "198.51.100.7",
      });
    const rush = await Promise.all([login(), login(), login()]);
    expect(rush.map((r) => r.status).sort()).toEqual([200, 503, 503]);
    // Only the one that was checked counted: two attempts are left for this pair and address, then 429.
    expect((await login()).status).toBe(200);
    expect((await login()).status).toBe(200);
    expect((await login()).status).toBe(429);
  });

  test("429 per address across usernames; other addresses are unaffected", async () => {
    api = await startTestApi({ now: () => 5, env: { LOGIN_IP_BURST: "3", LOGIN_IP_REFILL_SEC: "2" } });
    const attempt = (username: string, ip: string) =>
      api.call("POST", "/api/auth/login", { body: { username, password: TEST_PASSWORD }, ip });
    for (const name of ["aaa", "bbb", "ccc"]) expect((await attempt(name, "203.0.113.9")).status).toBe(401);
    const limited = await attempt("ddd", "203.0.113.9");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect((await attempt("ddd", "203.0.113.10")).status).toBe(401);
  });
});

describe.skipIf(skipWithout("redis"))("login limits across http-api replicas (Redis)", () => {
  test("two apps share one bucket per (username, address)", async () => {
    const prefix = `ratelimit-test-${Date.now().toString(36)}:`;
    const factories = [0, 1].map(() =>
      createRedisLimiterFactory({ url: serviceUrl("redis")!, log: silentLogger, prefix }),
    );
    const env = { LOGIN_PAIR_BURST: "2", LOGIN_PAIR_REFILL_SEC: "100" };
    const a = await startTestApi({ limiters: factories[0], env });
    const b = await startTestApi({ limiters: factories[1], env });
    for (const f of factories) await f.ready();
    try {
      const attempt = (app: typeof a) =>
        app.call("POST", "/api/auth/login", {
          body: { username: "shared-user", password: "wrong-password" },
        });
      expect((await attempt(a)).status).toBe(401);
      expect((await attempt(b)).status).toBe(401);
      // The third attempt, on either replica, finds the shared bucket empty.
      expect((await attempt(a)).status).toBe(429);
      expect((await attempt(b)).status).toBe(429);
    } finally {
      await a.dispose();
      await b.dispose();
      for (const f of factories) await f.close();
    }
  });
});

describe("POST /api/auth/signup limits", () => {
  test("429 with Retry-After once an address has used its sign-ups; other addresses are unaffected", async () => {
    api = await startTestApi({ now: () => 7, env: { SIGNUP_IP_BURST: "2", SIGNUP_IP_REFILL_SEC: "5" } });
    const signup = (username: string, ip: string) =>
      api.call("POST", "/api/auth/signup", { body: { username, password: TEST_PASSWORD }, ip });
    expect((await signup("first", "192.0.2.1")).status).toBe(201);
    expect((await signup("second", "192.0.2.1")).status).toBe(201);
    const limited = await signup("third", "192.0.2.1");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("5");
    expect((await signup("third", "192.0.2.2")).status).toBe(201);
  });
});

describe("POST /api/auth/refresh", () => {
  test("200 with a new pair; the old refresh token is spent", async () => {
    api = await startTestApi();
    const { refreshToken, user } = await api.signup();
    const res = await api.call("POST", "/api/auth/refresh", { body: { refreshToken } });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(user);
    expect(res.body.refreshToken).not.toBe(refreshToken);
    expect((await api.tokens.verifyAccessToken(res.body.accessToken)).userId).toBe(user.id);
  });

  test("reusing a spent token from another client is 401 and revokes the newest token of the family", async () => {
    api = await startTestApi();
    const { refreshToken } = await api.signup();
    const next = await api.call("POST", "/api/auth/refresh", { body: { refreshToken } });
    const reuse = await api.call("POST", "/api/auth/refresh", { body: { refreshToken }, ip: "198.51.100.1" });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe("refresh_token_invalid");
    const after = await api.call("POST", "/api/auth/refresh", {
      body: { refreshToken: next.body.refreshToken },
    });
    expect(after.status).toBe(401);
  });

  test("two tabs refreshing with one token at once both get a working pair (grace window)", async () => {
    let clock = Date.now();
    api = await startTestApi({ now: () => clock });
    const { refreshToken, user } = await api.signup();
    const headers = { "user-agent": "Mozilla/5.0 (two tabs)" };
    const [a, b] = await Promise.all([
      api.call("POST", "/api/auth/refresh", { body: { refreshToken }, headers }),
      api.call("POST", "/api/auth/refresh", { body: { refreshToken }, headers }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.user).toEqual(user);
    for (const r of [a, b]) {
      const again = await api.call("POST", "/api/auth/refresh", {
        body: { refreshToken: r.body.refreshToken },
        headers,
      });
      expect(again.status).toBe(200);
    }
    // Outside the window the same reuse is treated as theft.
    clock += 11_000;
    const late = await api.call("POST", "/api/auth/refresh", { body: { refreshToken }, headers });
    expect(late.status).toBe(401);
  });

  test("401 for an unknown token, 400 without one", async () => {
    api = await startTestApi();
    const unknown = await api.call("POST", "/api/auth/refresh", { body: { refreshToken: "x".repeat(43) } });
    expect(unknown.status).toBe(401);
    const missing = await api.call("POST", "/api/auth/refresh", { body: {} });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body.error.fields)).toEqual(["refreshToken"]);
  });
});

describe("POST /api/auth/logout", () => {
  test("204 and the refresh token no longer works; idempotent", async () => {
    api = await startTestApi();
    const { refreshToken } = await api.signup();
    expect((await api.call("POST", "/api/auth/logout", { body: { refreshToken } })).status).toBe(204);
    expect((await api.call("POST", "/api/auth/refresh", { body: { refreshToken } })).status).toBe(401);
    expect((await api.call("POST", "/api/auth/logout", { body: { refreshToken } })).status).toBe(204);
  });

  test("400 without a refresh token", async () => {
    api = await startTestApi();
    const res = await api.call("POST", "/api/auth/logout", { body: { refreshToken: 5 } });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.refreshToken).toBeString();
  });
});

describe("GET /api/me", () => {
  test("200 with the caller", async () => {
    api = await startTestApi();
    const { token, user } = await api.signup();
    const res = await api.call("GET", "/api/me", { token });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject(user);
    expect(res.body.user.createdAt).toBeString();
  });

  test("401 token_missing, token_expired, token_invalid (tampered) with WWW-Authenticate", async () => {
    api = await startTestApi();
    const { token, user } = await api.signup();
    const missing = await api.call("GET", "/api/me");
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe("token_missing");
    expect(missing.headers.get("www-authenticate")).toStartWith("Bearer");

    const past = createTokenService({
      secret: new TextEncoder().encode("test-secret-test-secret-test-secret-0123"),
      issuer: "chattalk",
      audience: "chattalk",
      accessTtlSec: 60,
      now: () => Date.now() - 3_600_000,
    });
    const expired = await api.call("GET", "/api/me", { token: await past.issueAccessToken(user) });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe("token_expired");

    const [h, p, s] = token.split(".");
    const tampered = await api.call("GET", "/api/me", { token: `${h}.${p}.${s!.slice(0, -2)}AA` });
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe("token_invalid");
  });
});

describe("POST /api/auth/signup password policy", () => {
  test("400 with a clear field message for common, repetitive, sequential or username-bearing passwords", async () => {
    api = await startTestApi();
    const cases: [string, string][] = [
      ["12345678", "most common"],
      ["password123", "most common"],
      ["aaaaaaaa", "most common"],
      ["zzzzzzzzzzzz", "too few different characters"],
      ["ghijklmnop", "simple sequence"],
    ];
    for (const [password, why] of cases) {
      const res = await api.call("POST", "/api/auth/signup", {
        body: { username: uniqueName("p"), password },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.fields.password).toContain(why);
    }
    const name = uniqueName("mina");
    const own = await api.call("POST", "/api/auth/signup", {
      body: { username: name, password: `${name}-rocks!` },
    });
    expect(own.body.error.fields.password).toBe("must not contain your username");
  });

  test("login is not held to the policy: accounts with older, weaker passwords still log in", async () => {
    api = await startTestApi();
    const name = uniqueName("old");
    await api.stores.users.createUser(
      name,
      await Bun.password.hash("12345678", { algorithm: "argon2id", memoryCost: 1024, timeCost: 1 }),
    );
    const res = await api.call("POST", "/api/auth/login", { body: { username: name, password: "12345678" } });
    expect(res.status).toBe(200);
  });
});
