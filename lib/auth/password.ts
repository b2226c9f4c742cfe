import { availableParallelism } from "node:os";
import type { Config } from "../config/schema.ts";
import { WorkPool } from "./work-pool.ts";

export { PoolBusyError as PasswordBusyError } from "./work-pool.ts";

/** Passwords: 8 to 128 characters, any characters; hashed with argon2id. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/**
 * argon2id cost, per OWASP's password storage guidance (m = 19 MiB, t = 2, p = 1: Bun always uses one
 * lane). Each hash or verify then takes ~35–40 ms of one core here, against ~90 ms at Bun's defaults.
 */
export const PASSWORD_DEFAULT_MEMORY_KIB = 19 * 1024;
export const PASSWORD_DEFAULT_TIME_COST = 2;
/** Hashes waiting beyond the running ones before a login or sign-up is refused (503 + Retry-After). */
export const PASSWORD_DEFAULT_QUEUE_LIMIT = 32;

/** One core is left for everything else: a login rush must not starve the other routes. */
export function defaultPasswordConcurrency(): number {
  return Math.max(1, availableParallelism() - 1);
}

export interface PasswordHasher {
  /** Rejects with PasswordBusyError when the pool's queue is full. */
  hash(password: string): Promise<string>;
  /** Checks against the parameters encoded in `hash`, so hashes made at an older cost keep verifying. */
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the time of one verify, so an unknown username answers no faster than a wrong password. */
  verifyNothing(password: string): Promise<void>;
}

export interface PasswordHasherOptions {
  /** argon2id memory in KiB. */
  memoryCost: number;
  timeCost: number;
  /** Hashes and verifies running at once. */
  concurrency: number;
  /** Waiting beyond those; more are refused. */
  queueLimit: number;
}

/**
 * argon2id through Bun.password, whose async calls already run on Bun's thread pool rather than the
 * event loop; what a rush needs on top is a bound: at most `concurrency` at once (cores for the other
 * routes stay free) and a refusal, not a growing queue, past `queueLimit`.
 */
export function createPasswordHasher(options: Partial<PasswordHasherOptions> = {}): PasswordHasher {
  const argon = {
    algorithm: "argon2id" as const,
    memoryCost: options.memoryCost ?? PASSWORD_DEFAULT_MEMORY_KIB,
    timeCost: options.timeCost ?? PASSWORD_DEFAULT_TIME_COST,
  };
  const pool = new WorkPool({
    concurrency: options.concurrency ?? defaultPasswordConcurrency(),
    queueLimit: options.queueLimit ?? PASSWORD_DEFAULT_QUEUE_LIMIT,
    what: "password checks",
  });
  let decoy: Promise<string> | undefined;
  const verify = (password: string, hash: string) => pool.run(() => Bun.password.verify(password, hash));
  return {
    hash: (password) => pool.run(() => Bun.password.hash(password, argon)),
    verify,
    async verifyNothing(password) {
      // Made outside the pool, once: its cost must not count against a waiting login.
      decoy ??= Bun.password.hash(crypto.randomUUID(), argon);
      await verify(password, await decoy);
    },
  };
}

/** The hasher an installation's settings describe. */
export function passwordHasherFromConfig(config: Config): PasswordHasher {
  return createPasswordHasher({
    memoryCost: config.PASSWORD_MEMORY_KIB,
    timeCost: config.PASSWORD_TIME_COST,
    concurrency: config.PASSWORD_CONCURRENCY,
    queueLimit: config.PASSWORD_QUEUE_LIMIT,
  });
}
