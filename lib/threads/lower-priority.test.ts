import { describe, expect, test } from "bun:test";
import { getPriority } from "node:os";
import { BACKGROUND_NICE } from "./lower-priority.ts";

/** Runs lowerThreadPriority in a worker; answers the worker's nice value and the process's after. */
async function inWorker(): Promise<{ reported: number | undefined; mainAfter: number }> {
  const source = `import { lowerThreadPriority } from ${JSON.stringify(`${import.meta.dir}/lower-priority.ts`)};
    postMessage(lowerThreadPriority() ?? null);`;
  const url = URL.createObjectURL(new Blob([source], { type: "application/typescript" }));
  const worker = new Worker(url);
  try {
    const reported = await new Promise<number | undefined>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data ?? undefined);
      worker.onerror = (e) => reject(e);
    });
    return { reported, mainAfter: getPriority(process.pid) };
  } finally {
    worker.terminate();
  }
}

describe.if(process.platform === "linux")("lowerThreadPriority", () => {
  test("lowers the worker thread it runs in, not the event loop's thread", async () => {
    const before = getPriority(process.pid);
    const { reported, mainAfter } = await inWorker();
    expect(reported).toBe(Math.max(before, BACKGROUND_NICE));
    expect(mainAfter).toBe(before);
  });
});
