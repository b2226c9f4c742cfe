import { describe } from "bun:test";
import { presenceContract } from "../../testkit/contracts/presence.ts";
import { silentLogger } from "../log/index.ts";
import { MemoryPresence } from "./memory.ts";

describe("MemoryPresence", () => {
  const presence = new MemoryPresence(silentLogger, { coalesceMs: 50 });
  presenceContract({
    reporter: async () => presence.reporter(),
    view: async () => presence,
  });
});
