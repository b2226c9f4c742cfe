/**
 * Client process of the typing benchmark: one STOMP 1.2 session per token, each subscribed to its
 * room (`sub-0`), the room's typing destination (`sub-1`) and its notices (`sub-e`, so a refusal is
 * counted instead of closing the socket); then it runs phases on command and counts what arrives.
 *
 *   bun bench/support/typing-clients.ts <ws url> <room destination> <tokens file> <first> <count> <members> <since seq>
 *
 * Tokens `first .. first+count` of the JSON array in <tokens file> are this process's members, out of
 * <members> in the room (the stagger of typing starts is spread over all of them). <since seq> is the
 * room's last seq at the start (its join lines): subscribing after it replays nothing.
 *
 * stdout: `ready <count>` once set up. stdin commands, one a line:
 *   `run <mode> <ms> <chat per sec>` → runs a phase for <ms>, then prints `done`. Modes: `idle` (nothing
 *       sent), `typing` (each member sends {"typing":true} every 3 s, staggered), `typing-stop` (the same,
 *       and {"typing":false} 1.5 s after each start: the list changes all the time), `chat` (this
 *       process sends <chat per sec> messages to the room, from its members in turn);
 *   `stats` → `stats <chat frames> <typing frames> <notices> <errors> <receipts> <signals sent>
 *       <messages sent> <closes> <cpu µs>`;
 *   `exit`  → closes every socket and exits.
 */
import { openAll, readLines, WireSocket, wireTotals } from "./ws-wire.ts";

const [url, room, tokensFile, firstArg, countArg, membersArg, since] = process.argv.slice(2);
if (!url || !room || !tokensFile || !firstArg || !countArg || !membersArg || !since) {
  console.error(
    "usage: typing-clients.ts <ws url> <room> <tokens file> <first> <count> <members> <since seq>",
  );
  process.exit(2);
}
const target = new URL(url);
const first = Number(firstArg);
const members = Number(membersArg);
const tokens = ((await Bun.file(tokensFile).json()) as string[]).slice(first, first + Number(countArg));
const TYPING_EVERY_MS = 3_000;
const STOP_AFTER_MS = 1_500;

const counts = { chat: 0, typing: 0, notices: 0, errors: 0, receipts: 0, signals: 0, sent: 0 };
let firstProblem = true;

/** Classifies one STOMP frame by its command and `subscription` header (it only reads the head). */
function count(buf: Buffer, start: number, end: number): void {
  const head = buf.toString("latin1", start, Math.min(end, start + 400));
  if (head.startsWith("MESSAGE\n")) {
    const at = head.indexOf("\nsubscription:");
    const sub = at < 0 ? "" : head.slice(at + 14, head.indexOf("\n", at + 14));
    if (sub === "sub-0") counts.chat++;
    else if (sub === "sub-1") counts.typing++;
    else {
      counts.notices++;
      problem(buf.toString("utf8", start, end));
    }
  } else if (head.startsWith("RECEIPT\n")) counts.receipts++;
  else if (head.startsWith("ERROR\n")) {
    counts.errors++;
    problem(buf.toString("utf8", start, end));
  }
}

/** The first refusal is shown whole: the parent fails the run on any, and this says why. */
function problem(frame: string): void {
  if (!firstProblem) return;
  firstProblem = false;
  console.error(`typing-clients: ${frame.slice(0, 500)}`);
}

/** Sends `frame` and waits for its RECEIPT, skipping any other frame before it (a short replay). */
async function withReceipt(ws: WireSocket, frame: string): Promise<void> {
  ws.send(frame);
  for (let i = 0; i < 1_000; i++) {
    const reply = await ws.next();
    if (reply.startsWith("RECEIPT\n")) return;
    if (reply.startsWith("ERROR\n")) throw new Error(`refused: ${reply.slice(0, 300)}`);
  }
  throw new Error("no RECEIPT");
}

async function openOne(i: number): Promise<WireSocket> {
  const ws = await WireSocket.open(target.hostname, Number(target.port), target.pathname, "v12.stomp");
  ws.send(
    `CONNECT\naccept-version:1.2\nhost:chattalk\nheart-beat:0,0\nAuthorization:Bearer ${tokens[i]}\n\n\0`,
  );
  const connected = await ws.next();
  if (!connected.startsWith("CONNECTED\n")) throw new Error(`CONNECT refused: ${connected.slice(0, 200)}`);
  await withReceipt(ws, "SUBSCRIBE\nid:sub-e\ndestination:/user/queue/errors\nack:auto\nreceipt:e\n\n\0");
  await withReceipt(
    ws,
    `SUBSCRIBE\nid:sub-0\ndestination:${room}\nack:auto\nx-since-seq:${since}\nreceipt:r\n\n\0`,
  );
  await withReceipt(ws, `SUBSCRIBE\nid:sub-1\ndestination:${room}/typing\nack:auto\nreceipt:t\n\n\0`);
  ws.onData = count;
  return ws;
}

const sockets = await openAll(tokens.length, 50, openOne);
wireTotals.messages = 0;
wireTotals.bytes = 0;
console.log(`ready ${sockets.length}`);

const signal = (ws: WireSocket, typing: boolean) => {
  counts.signals++;
  ws.send(`SEND\ndestination:${room}/typing\ncontent-type:application/json\n\n{"typing":${typing}}\0`);
};

let sentMessages = 0;
function chat(ws: WireSocket): void {
  counts.sent++;
  sentMessages++;
  ws.send(
    `SEND\ndestination:${room}\ncontent-type:application/json\nreceipt:m-${sentMessages}\n\n` +
      `{"text":"Lunch at the usual place? I can book a table for 12:30. (${sentMessages})"}\0`,
  );
}

/** Starts a phase; resolves when it is over and every timer it set is cleared. */
async function run(mode: string, ms: number, chatPerSec: number): Promise<void> {
  const timers: ReturnType<typeof setTimeout>[] = [];
  if (mode === "typing" || mode === "typing-stop") {
    sockets.forEach((ws, i) => {
      // Member g of the room starts at g/members of the 3 s period: 1,000 starts spread evenly.
      const offset = ((first + i) / members) * TYPING_EVERY_MS;
      const once = () => {
        signal(ws, true);
        if (mode === "typing-stop") timers.push(setTimeout(() => signal(ws, false), STOP_AFTER_MS));
      };
      timers.push(
        setTimeout(() => {
          once();
          timers.push(setInterval(once, TYPING_EVERY_MS));
        }, offset),
      );
    });
  } else if (mode === "chat") {
    let next = 0;
    timers.push(
      setInterval(() => {
        chat(sockets[next]!);
        next = (next + 1) % sockets.length;
      }, 1000 / chatPerSec),
    );
  } else if (mode !== "idle") throw new Error(`unknown mode ${mode}`);
  await Bun.sleep(ms);
  for (const t of timers) clearTimeout(t);
}

await readLines(async (line) => {
  const [command, ...args] = line.split(" ");
  if (command === "run") {
    // Not awaited: `stats` must be answered while the phase runs.
    void run(args[0]!, Number(args[1]), Number(args[2])).then(() => console.log("done"));
  } else if (command === "stats") {
    const cpu = process.cpuUsage();
    const c = counts;
    console.log(
      `stats ${c.chat} ${c.typing} ${c.notices} ${c.errors} ${c.receipts} ${c.signals} ${c.sent} ${wireTotals.closes} ${cpu.user + cpu.system}`,
    );
  } else if (command === "exit") {
    await Promise.all(sockets.map((s) => s.close()));
    process.exit(0);
  }
});
process.exit(0);
