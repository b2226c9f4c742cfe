/**
 * The embedded stores' writer thread for read positions (a WriteThread, lib/sqlite/write-thread.ts):
 * at 5,000 members a save every 100 ms is a 500-row UPDATE, which held the event loop 5-10 ms each
 * time; here it runs on a connection of its own.
 */
import { serveWrites } from "../../sqlite/write-worker.ts";
import type { ReadPosition } from "../types.ts";
import { prepareAdvanceReadPositions } from "./read-positions.ts";

serveWrites<ReadPosition>(prepareAdvanceReadPositions);
