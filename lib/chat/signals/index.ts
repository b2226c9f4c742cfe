import type { SignalKind } from "./kind.ts";
import { receipts } from "./receipts.ts";
import { typing } from "./typing.ts";

export type { SignalBody, SignalKind, SignalState } from "./kind.ts";
export type { ReadPosition } from "./receipts.ts";

/** Every kind of ephemeral signal, by its destination name. */
export const SIGNAL_KINDS: ReadonlyMap<string, SignalKind> = new Map(
  [typing, receipts].map((k) => [k.name, k]),
);
