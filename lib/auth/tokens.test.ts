import { describe, expect, test } from "bun:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { AuthError } from "./errors.ts";
import { createTokenService } from "./tokens.ts";

const secret = new TextEncoder().encode("a-test-secret-that-is-long-enough-0123456789");
const t0 = Date.parse("2030-01-01T00:00:00Z");
const base = { secret, issuer: "chattalk", audience: "chattalk", accessTtlSec: 900 };
const service = createTokenService({ ...base, now: () => t0 });
const user = { id: "0190a000-0000-7000-8000-000000000001", username: "alice" };

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (err) {
    if (err instanceof AuthError) return err.reason;
    throw err;
  }
}

/** A token signed with the test secret, for claims or algorithms the service would not issue. */
const signed = (claims: Record<string, unknown>, alg = "HS256") =>
  new SignJWT(claims)
    .setProtectedHeader({ alg })
    .setIssuer("chattalk")
    .setAudience("chattalk")
    .setSubject(user.id)
    .setIssuedAt(t0 / 1000)
    .setExpirationTime(t0 / 1000 + 60)
    .sign(secret);

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("access tokens", () => {
  test("a fresh token verifies to its user", async () => {
    const token = await service.issueAccessToken(user);
    expect(await service.verifyAccessToken(token)).toEqual({
      userId: user.id,
      username: "alice",
      expiresAt: t0 + 900_000,
    });
    const withFamily = await service.issueAccessToken(user, "family-1");
    expect((await service.verifyAccessToken(withFamily)).familyId).toBe("family-1");
  });

  test("carries iss, aud, sub, username, iat, exp and a jti in an HS256 header", async () => {
    const token = await service.issueAccessToken(user);
    const [header, payload] = token
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
    expect(header.alg).toBe("HS256");
    expect(payload).toMatchObject({ iss: "chattalk", aud: "chattalk", sub: user.id, username: "alice" });
    expect(payload.exp - payload.iat).toBe(900);
    expect(typeof payload.jti).toBe("string");
  });

  test("missing token", async () => {
    expect(await reasonOf(service.verifyAccessToken(undefined))).toBe("missing");
    expect(await reasonOf(service.verifyAccessToken(""))).toBe("missing");
  });

  test("expired once its lifetime has passed", async () => {
    const token = await service.issueAccessToken(user);
    const later = createTokenService({ ...base, now: () => t0 + 901_000 });
    expect(await reasonOf(later.verifyAccessToken(token))).toBe("expired");
  });

  test("a tampered payload or signature is invalid", async () => {
    const token = await service.issueAccessToken(user);
    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = `${h}.${b64({ ...claims, sub: "someone-else" })}.${s}`;
    expect(await reasonOf(service.verifyAccessToken(forged))).toBe("invalid");
    const flipped = `${h}.${p}.${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`;
    expect(await reasonOf(service.verifyAccessToken(flipped))).toBe("invalid");
  });

  test("alg none is refused", async () => {
    const unsigned = new UnsecuredJWT({ username: "alice" })
      .setIssuer("chattalk")
      .setAudience("chattalk")
      .setSubject(user.id)
      .setIssuedAt(t0 / 1000)
      .setExpirationTime(t0 / 1000 + 60)
      .encode();
    expect(await reasonOf(service.verifyAccessToken(unsigned))).toBe("invalid");
  });

  test("another HMAC algorithm with the same key is refused", async () => {
    const hs512 = await signed({ username: "alice" }, "HS512");
    expect(await reasonOf(service.verifyAccessToken(hs512))).toBe("invalid");
  });

  test("wrong audience, wrong issuer or another key is invalid", async () => {
    const token = await service.issueAccessToken(user);
    const otherAudience = createTokenService({ ...base, audience: "someone-else", now: () => t0 });
    expect(await reasonOf(otherAudience.verifyAccessToken(token))).toBe("invalid");
    const otherIssuer = createTokenService({ ...base, issuer: "elsewhere", now: () => t0 });
    expect(await reasonOf(otherIssuer.verifyAccessToken(token))).toBe("invalid");
    const otherKey = createTokenService({ ...base, secret: new Uint8Array(32).fill(7), now: () => t0 });
    expect(await reasonOf(otherKey.verifyAccessToken(token))).toBe("invalid");
  });

  test("a correctly signed token without a username claim is invalid", async () => {
    const token = await signed({});
    expect(await reasonOf(service.verifyAccessToken(token))).toBe("invalid");
  });

  test("garbage is invalid", async () => {
    expect(await reasonOf(service.verifyAccessToken("not.a.jwt"))).toBe("invalid");
    expect(await reasonOf(service.verifyAccessToken("x"))).toBe("invalid");
  });
});
