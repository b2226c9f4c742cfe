/**
 * Client process of the fan-out benchmark: opens `count` WebSockets to `url` and, with `destination`
 * given, makes each a STOMP 1.2 session subscribed to it as `sub-0`; then counts what arrives.
 *
 *   bun bench/support/fanout-clients.ts <url> <count> [<token> <destination>]
 *
 * stdout: `ready <count>` once set up. stdin commands, one a line:
 *   `await <n>`  → prints `reached <messages> <bytes> <closes> <cpu µs>` once `n` messages arrived in
 *                  total (or as soon as a socket closes: the parent must not wait forever);
 *   `stats`      → prints `stats <messages> <bytes> <closes> <cpu µs>` (cpu: this process's, so far);
 *   `exit`       → closes every socket and exits.
 */
import { openAll, readLines, WireSocket, wireTotals, wireWatch } from "./ws-wire.ts";

const [url, countArg, token, destination] = process.argv.slice(2);
if (!url || !countArg) {
  console.error("usage: fanout-clients.ts <url> <count> [<token> <destination>]");
  process.exit(2);
}
const target = new URL(url);
const count = Number(countArg);

async function openOne(): Promise<WireSocket> {
  const ws = await WireSocket.open(target.hostname, Number(target.port), target.pathname, "v12.stomp");
  if (!token || !destination) return ws;
  ws.send(`CONNECT\naccept-version:1.2\nhost:chattalk\nheart-beat:0,0\nAuthorization:Bearer ${token}\n\n\0`);
  const connected = await ws.next();
  if (!connected.startsWith("CONNECTED\n")) throw new Error(`CONNECT refused: ${connected.slice(0, 200)}`);
  ws.send(`SUBSCRIBE\nid:sub-0\ndestination:${destination}\nack:auto\nreceipt:s\n\n\0`);
  const receipt = await ws.next();
  if (!receipt.startsWith("RECEIPT\n")) throw new Error(`SUBSCRIBE refused: ${receipt.slice(0, 200)}`);
  return ws;
}

const sockets = await openAll(count, 100, openOne);
// Setup frames are not deliveries: count from zero.
wireTotals.messages = 0;
wireTotals.bytes = 0;
const report = (word: string) => {
  const cpu = process.cpuUsage();
  console.log(
    `${word} ${wireTotals.messages} ${wireTotals.bytes} ${wireTotals.closes} ${cpu.user + cpu.system}`,
  );
};
console.log(`ready ${sockets.length}`);

let awaiting = Number.POSITIVE_INFINITY;
const check = () => {
  if (wireTotals.messages >= awaiting || (wireTotals.closes > 0 && awaiting !== Number.POSITIVE_INFINITY)) {
    awaiting = Number.POSITIVE_INFINITY;
    report("reached");
  }
};
wireWatch.afterChunk = check;

await readLines(async (line) => {
  const [command, arg] = line.split(" ");
  if (command === "await") {
    awaiting = Number(arg);
    check();
  } else if (command === "stats") report("stats");
  else if (command === "exit") {
    await Promise.all(sockets.map((s) => s.close()));
    process.exit(0);
  }
});
// stdin closed: the parent is gone, so are we.
process.exit(0);
