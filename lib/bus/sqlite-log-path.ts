import { join } from "node:path";

/** The embedded bus's log file in DATA_DIR: the bus writes it (lib/backends.ts), its lag probe reads it (lib/metrics). */
export const busLogPath = (dataDir: string): string => join(dataDir, "bus.db");
