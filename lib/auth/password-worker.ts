/**
 * A password thread (a Bun Worker): argon2id hashes and verifies, one at a time, at a lower CPU
 * priority than the process's other threads, so a login rush slows logins, not the event loop.
 * Driven by lib/auth/password-threads.ts; messages are PasswordJob in, PasswordResult out.
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

declare const self: Worker;

export type PasswordJob =
  | { id: number; op: "hash"; password: string; memoryCost: number; timeCost: number }
  | { id: number; op: "verify"; password: string; hash: string };

export type PasswordResult =
  | { id: number; ok: true; value: string | boolean }
  | { id: number; ok: false; error: string };

/** Nice value of the hashing threads; the event loop stays at the process's own. */
export const PASSWORD_THREAD_NICE = 10;

try {
  // Linux: /proc/thread-self names this thread's id, which setpriority takes like a process id.
  const tid = Number(readlinkSync("/proc/thread-self").split("/").at(-1));
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, PASSWORD_THREAD_NICE);
} catch {
  // Elsewhere (or where priorities cannot be changed) the pool's bound alone protects the event loop.
}

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
