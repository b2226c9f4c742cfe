import { describe } from "bun:test";
import { silentLogger } from "../log/index.ts";
import { presenceContract } from "./contract.ts";
import { MemoryPresence } from "./memory.ts";

describe("MemoryPresence", () => {
  const presence = new MemoryPresence(silentLogger, { coalesceMs: 50 });
  presenceContract({
    reporter: async () => presence.reporter(),
    view: async () => presence,
  });
});
