import { availableParallelism } from "node:os";
import { PasswordThreads } from "./password-threads.ts";
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

/** One hash or verify's place in the pool (see PasswordHasher.reserve). */
export interface PasswordSlot {
  hash(password: string): Promise<string>;
  /** Checks against the parameters encoded in `hash`, so hashes made at an older cost keep verifying. */
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the time of one verify, so an unknown username answers no faster than a wrong password. */
  verifyNothing(password: string): Promise<void>;
  /** Gives the place back unused (the request ended before its password work). */
  release(): void;
}

export interface PasswordHasher {
  /**
   * Takes a place in the pool for one hash or verify, or throws PasswordBusyError at once. Routes take
   * it before spending a rate-limit allowance, so a client told to come back later keeps its attempts.
   */
  reserve(): PasswordSlot;
  /** These reserve a place themselves: they reject with PasswordBusyError when the pool is full. */
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
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
 * argon2id (Bun.password) on threads of its own (Bun Workers, at a lower CPU priority than the event
 * loop), behind a bound: at most `concurrency` at once, so cores stay free for every other route, and
 * a refusal rather than a growing queue past `queueLimit`.
 */
export function createPasswordHasher(options: Partial<PasswordHasherOptions> = {}): PasswordHasher {
  const argon = {
    algorithm: "argon2id" as const,
    memoryCost: options.memoryCost ?? PASSWORD_DEFAULT_MEMORY_KIB,
    timeCost: options.timeCost ?? PASSWORD_DEFAULT_TIME_COST,
  };
  const concurrency = options.concurrency ?? defaultPasswordConcurrency();
  const pool = new WorkPool({
    concurrency,
    queueLimit: options.queueLimit ?? PASSWORD_DEFAULT_QUEUE_LIMIT,
    what: "password checks",
  });
  const threads = new PasswordThreads(concurrency);
  const hash = async (password: string) =>
    (await threads.run({
      op: "hash",
      password,
      memoryCost: argon.memoryCost,
      timeCost: argon.timeCost,
    })) as string;
  const verify = async (password: string, encoded: string) =>
    (await threads.run({ op: "verify", password, hash: encoded })) as boolean;
  let decoy: Promise<string> | undefined;
  const reserve = (): PasswordSlot => {
    const place = pool.reserve();
    return {
      hash: (password) => place.run(() => hash(password)),
      verify: (password, encoded) => place.run(() => verify(password, encoded)),
      async verifyNothing(password) {
        // Made once, on the first unknown username (Bun's thread pool, not ours: it must not wait
        // behind the logins it is there to look like).
        decoy ??= Bun.password.hash(crypto.randomUUID(), argon);
        const target = await decoy;
        await place.run(() => verify(password, target));
      },
      release: () => place.release(),
    };
  };
  return {
    reserve,
    hash: async (password) => reserve().hash(password),
    verify: async (password, hash) => reserve().verify(password, hash),
    verifyNothing: async (password) => reserve().verifyNothing(password),
  };
}
