/**
 * Bun's Worker with the ref/unref Bun documents (the DOM typing of Worker lacks them): a thread that
 * is unref'd does not keep the process alive.
 */
export type RefWorker = Worker & { ref(): void; unref(): void };
