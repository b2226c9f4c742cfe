/**
 * scripts/seed-backlog: writes a history straight into the backlog, with the rooms, members and read
 * positions that go with it in the store, so benchmarks and tests can run on top of a large one.
 *
 *   --messages N    messages in all (required); dealt round-robin over the rooms, numbered 1..N
 *                   as one Kafka partition would number them
 *   --rooms M       rooms to create (default 1000)
 *   --members K     members of every room, the owner included (default 2)
 *   --unread U      messages each member has not read, per room (default 100)
 *   --prefix P      usernames P-u1..P-uK (password "seed-password") and room names (default seed-<time>)
 *   --once          with --prefix: if this prefix's rooms already hold the whole history, do nothing;
 *                   if an earlier run stopped part way, write it again into the same rooms (appends
 *                   are idempotent). CI seeds the default databases this way before every run.
 *
 * Where it writes is the apps' own configuration, from the environment: MONGO_URL + MONGO_DB (else
 * SQLite at ${DATA_DIR}/backlog.db) and DATABASE_URL (else SQLite at ${DATA_DIR}/chattalk.db).
 * Seeded rooms hold history: their seqs come from this tool, not from the bus, so live messages in
 * them would be numbered below their history. Send live traffic to rooms the apps create.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { openBacklog, openStores } from "../../lib/backends.ts";
import { loadConfig } from "../../lib/config/index.ts";
import { findSeededRooms, historyComplete, seedMessages, seedReadPositions, seedRooms } from "./seed.ts";

const say = (msg: string) => process.stderr.write(`[seed-backlog] ${msg}\n`);

function usage(): never {
  const text = readFileSync(import.meta.path, "utf8");
  process.stderr.write(/\/\*\*\n([\s\S]*?)\*\//.exec(text)![1]!.replace(/^ \* ?/gm, ""));
  process.exit(2);
}

function count(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined || !/^\d+$/.test(value)) {
    say(`--${name} must be a whole number`);
    usage();
  }
  return Number(value);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        messages: { type: "string" },
        rooms: { type: "string" },
        members: { type: "string" },
        unread: { type: "string" },
        prefix: { type: "string" },
        once: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    usage();
  }
})();
if (values.help) usage();
const messages = count(values.messages, "messages");
const rooms = count(values.rooms, "rooms", 1000);
const members = count(values.members, "members", 2);
const unread = count(values.unread, "unread", 100);
const prefix = values.prefix ?? `seed-${Date.now().toString(36)}`;
if (values.once && !values.prefix) {
  say("--once needs --prefix (it finds the earlier run by its names)");
  usage();
}
if (rooms < 1 || members < 1) {
  say("--rooms and --members must be at least 1");
  usage();
}

const config = loadConfig();
const stores = await openStores(config);
const backlog = await openBacklog(config);
const where = `${config.MONGO_URL ? `MongoDB ${config.MONGO_DB}` : `SQLite in ${config.DATA_DIR}`}, store ${config.DATABASE_URL ? "Postgres" : `SQLite in ${config.DATA_DIR}`}`;
async function seed(): Promise<void> {
  const t0 = performance.now();
  const earlier = values.once ? await findSeededRooms(stores, { rooms, members, prefix }) : undefined;
  if (earlier && (await historyComplete(backlog, earlier, messages))) {
    say(`${prefix}: ${messages} messages over ${rooms} rooms already seeded (${where}), nothing to do`);
    process.stdout.write(`${JSON.stringify({ prefix, rooms, members, messages, alreadySeeded: true })}\n`);
    return;
  }
  if (earlier) say(`${prefix}: an earlier run stopped part way; writing its history again (${where})`);
  else say(`creating ${rooms} rooms with ${members} members each (${where})`);
  const seeded = earlier ?? (await seedRooms(stores, { rooms, members, prefix, password: "seed-password" }));
  const t1 = performance.now();
  let last = 0;
  await seedMessages(backlog, seeded, { from: 0, to: messages }, (written) => {
    if (written - last >= 50_000 || written === messages) {
      last = written;
      say(`${written} / ${messages} messages`);
    }
  });
  const t2 = performance.now();
  await seedReadPositions(stores, seeded, messages, unread);
  const t3 = performance.now();
  const secs = (ms: number) => (ms / 1000).toFixed(1);
  process.stdout.write(
    `${JSON.stringify({
      prefix,
      rooms,
      members,
      messages,
      unreadPerRoom: unread,
      storeSeconds: Number(secs(t1 - t0 + (t3 - t2))),
      backlogSeconds: Number(secs(t2 - t1)),
      messagesPerSecond: Math.round(messages / ((t2 - t1) / 1000)),
      login: { username: `${prefix}-u1`, password: "seed-password" },
    })}\n`,
  );
}

try {
  await seed();
} finally {
  await backlog.close();
  await stores.close();
}
