/**
 * A password thread (a Bun Worker): argon2id hashes and verifies, one at a time, at a lower CPU
 * priority than the process's other threads, so a login rush slows logins, not the event loop.
 * Driven by lib/auth/password-threads.ts; messages are PasswordJob in, PasswordResult out.
 */
import { lowerThreadPriority } from "../threads/lower-priority.ts";
import type { PasswordJob, PasswordResult } from "./password-threads.ts";

declare const self: Worker;

// Elsewhere than Linux (or where priorities cannot be changed) the pool's bound alone protects the
// event loop.
lowerThreadPriority();

self.onmessage = (event: MessageEvent<PasswordJob>) => {
  const job = event.data;
  let reply: PasswordResult;
  try {
    const value =
      job.op === "hash"
        ? Bun.password.hashSync(job.password, {
            algorithm: "argon2id",
            memoryCost: job.memoryCost,
            timeCost: job.timeCost,
          })
        : Bun.password.verifySync(job.password, job.hash);
    reply = { id: job.id, ok: true, value };
  } catch (err) {
    reply = { id: job.id, ok: false, error: String(err) };
  }
  self.postMessage(reply);
};
