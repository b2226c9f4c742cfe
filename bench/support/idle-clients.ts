/**
 * Client process of the idle-connection benchmark: opens `count` WebSockets to `url`, sends each a
 * STOMP CONNECT (heart-beat 0,0, a bearer token taken round-robin from the JSON array in
 * `tokensFile`) and waits for CONNECTED; then holds them open, idle.
 *
 *   bun bench/support/idle-clients.ts <url> <count> <tokensFile>
 *
 * stdout: `connected <count>` once every socket has its CONNECTED. stdin commands, one a line:
 *   `stats` → prints `stats <closes>`;  `exit` → closes every socket and exits.
 */
import { openAll, readLines, WireSocket, wireTotals } from "./ws-wire.ts";

const [url, countArg, tokensFile] = process.argv.slice(2);
if (!url || !countArg || !tokensFile) {
  console.error("usage: idle-clients.ts <url> <count> <tokensFile>");
  process.exit(2);
}
const target = new URL(url);
const tokens = (await Bun.file(tokensFile).json()) as string[];

const sockets = await openAll(Number(countArg), 100, async (i) => {
  const ws = await WireSocket.open(target.hostname, Number(target.port), target.pathname, "v12.stomp");
  const token = tokens[i % tokens.length]!;
  ws.send(`CONNECT\naccept-version:1.2\nhost:chattalk\nheart-beat:0,0\nAuthorization:Bearer ${token}\n\n\0`);
  const reply = await ws.next(30_000);
  if (!reply.startsWith("CONNECTED\n")) throw new Error(`CONNECT refused: ${reply.slice(0, 200)}`);
  return ws;
});
console.log(`connected ${sockets.length}`);

await readLines(async (line) => {
  if (line === "stats") console.log(`stats ${wireTotals.closes}`);
  else if (line === "exit") {
    await Promise.all(sockets.map((s) => s.close()));
    process.exit(0);
  }
});
// stdin closed: the parent is gone, so are we.
process.exit(0);
