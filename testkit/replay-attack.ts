/**
 * The replay-amplification attack (issue 13, row 2) as a reusable stage for its regression test and
 * its benchmark: a ws-node process on the embedded stack with one room of a long seeded history, an
 * attacking member who asks for all of it many times over and discards what comes, and a healthy
 * pair of members chatting in another room.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tokenServiceFromConfig } from "../lib/auth/index.ts";
import { openBacklog, openStores } from "../lib/backends.ts";
import { parseConfig } from "../lib/config/index.ts";
import { type AppProcess, startAppProcess } from "./app-process.ts";
import { EMBEDDED_ONLY } from "./embedded-app.ts";
import { RawStomp } from "./raw-stomp.ts";
import { seedRoomHistory } from "./seed-history.ts";

export interface AttackStage {
  node: AppProcess;
  wsUrl: string;
  /** The room with the long history, and the room the healthy pair chats in. */
  bigRoom: string;
  chatRoom: string;
  tokens: { attacker: string; sender: string; receiver: string };
  stop(): Promise<void>;
}

const SECRET = "replay-attack-secret-long-enough-for-hs256";

/** Seeds the stores and backlog in a data directory of its own, then starts `apps/ws-node/main.ts` on it. */
export async function startAttackStage(
  history: number,
  env: Record<string, string> = {},
): Promise<AttackStage> {
  const dataDir = mkdtempSync(join(tmpdir(), "chattalk-attack-"));
  const settings = {
    DATA_DIR: dataDir,
    JWT_SECRET: SECRET,
    SEND_RATE_PER_SEC: "100",
    SEND_BURST: "100",
    // The embedded stack, whatever service URLs this process has (the child inherits its environment).
    ...EMBEDDED_ONLY,
    ...env,
  };
  const config = parseConfig(settings);
  const stores = await openStores(config);
  const backlog = await openBacklog(config);
  const tokens = tokenServiceFromConfig(config);
  const user = (name: string) =>
    stores.users.createUser(`${name}${Math.random().toString(36).slice(2, 8)}`, "x");
  const [attacker, sender, receiver] = await Promise.all([
    user("attacker"),
    user("sender"),
    user("receiver"),
  ]);
  const big = await stores.rooms.createRoom({ name: "long history", ownerId: sender.id, maxMembers: 10 });
  await stores.rooms.join(big.id, attacker.id, 0);
  const chat = await stores.rooms.createRoom({ name: "healthy", ownerId: sender.id, maxMembers: 10 });
  await stores.rooms.join(chat.id, receiver.id, 0);
  await seedRoomHistory(backlog, big.id, { id: sender.id, username: sender.username }, history);
  const issued = {
    attacker: await tokens.issueAccessToken(attacker),
    sender: await tokens.issueAccessToken(sender),
    receiver: await tokens.issueAccessToken(receiver),
  };
  await backlog.close();
  await stores.close();
  const node = await startAppProcess("apps/ws-node/main.ts", settings);
  return {
    node,
    wsUrl: `${node.url.replace("http:", "ws:")}/ws`,
    bigRoom: big.id,
    chatRoom: chat.id,
    tokens: issued,
    async stop() {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resident set size of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return line ? Number(line[1]) * 1024 : 0;
}

/**
 * An attacking connection: CONNECT and a subscription to /user/queue/errors; then attack() sends
 * SUBSCRIBEs with x-since-seq:0 to one room under distinct ids. Everything that comes back is
 * counted and thrown away unparsed, except refusal notices.
 */
export class DiscardingClient {
  bytes = 0;
  frames = 0;
  refusals = 0;
  errors = 0;
  readonly closed: Promise<void>;
  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.onclose = () => resolve();
    });
  }

  static async open(url: string, token: string): Promise<DiscardingClient> {
    const ws = new WebSocket(url, ["v12.stomp"]);
    const c = new DiscardingClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
      ws.onopen = () => {
        ws.send(`CONNECT\naccept-version:1.2\nheart-beat:0,0\nAuthorization:Bearer ${token}\n\n\0`);
      };
      ws.onmessage = (e) => {
        const data = String(e.data);
        if (!data.startsWith("CONNECTED")) return reject(new Error(`not connected: ${data.slice(0, 200)}`));
        ws.onmessage = (m) => c.count(m.data);
        ws.send("SUBSCRIBE\nid:errors\ndestination:/user/queue/errors\n\n\0");
        resolve();
      };
    });
    return c;
  }

  /** `count` SUBSCRIBEs for the room's whole history, in one WebSocket message. */
  attack(roomId: string, count: number): void {
    let frames = "";
    for (let i = 0; i < count; i++) {
      frames += `SUBSCRIBE\nid:s${i}\ndestination:/topic/rooms/${roomId}\nx-since-seq:0\n\n\0`;
    }
    this.ws.send(frames);
  }

  close(): void {
    this.ws.close();
  }

  private count(data: unknown): void {
    const text = typeof data === "string" ? data : "";
    this.bytes += typeof data === "string" ? data.length : (data as ArrayBuffer).byteLength;
    this.frames++;
    if (text.startsWith("ERROR")) this.errors++;
    else if (
      text.startsWith("MESSAGE\ndestination:/user/queue/errors") &&
      text.includes('"replay_limited"')
    ) {
      this.refusals++;
    }
  }
}

export interface AttackResult {
  /** Bytes the attacker received (and threw away). */
  bytes: number;
  /** SUBSCRIBEs refused with a replay_limited notice, and ERROR frames. */
  refusals: number;
  errors: number;
}

/**
 * Starts the attacker in a child process (testkit/fixtures/replay-attacker.ts): one connection per
 * entry of `plan`, each sending that many SUBSCRIBEs. Resolves once all were sent.
 */
export async function startAttacker(
  stage: AttackStage,
  plan: number[],
): Promise<{ stop(): Promise<AttackResult> }> {
  const proc = Bun.spawn(
    [
      process.execPath,
      new URL("./fixtures/replay-attacker.ts", import.meta.url).pathname,
      stage.wsUrl,
      stage.tokens.attacker,
      stage.bigRoom,
      plan.join(","),
    ],
    { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
  );
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const next = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`the attacker exited (${await proc.exited})`);
      buffered += decoder.decode(value, { stream: true });
    }
  };
  if ((await next()) !== "ready") throw new Error("the attacker did not start");
  return {
    async stop() {
      proc.stdin.write("stop\n");
      proc.stdin.flush();
      const result = JSON.parse(await next()) as AttackResult;
      await proc.exited;
      return result;
    },
  };
}

/** One member sending to the chat room at a steady pace, the other receiving; latency per message. */
export class HealthyChat {
  readonly latencies: number[] = [];
  sent = 0;
  receipts = 0;
  private readonly sentAt = new Map<string, number>();
  private running = false;
  private loop: Promise<void> | undefined;

  private constructor(
    private readonly sender: RawStomp,
    private readonly receiver: RawStomp,
    private readonly roomId: string,
  ) {
    // Timed on arrival, not when the sending loop next looks.
    receiver.onFrame = (f) => {
      if (f.command !== "MESSAGE") return;
      const at = this.sentAt.get(JSON.parse(receiver.body(f)).text as string);
      if (at !== undefined) this.latencies.push(performance.now() - at);
    };
  }

  static async open(stage: AttackStage): Promise<HealthyChat> {
    const dest = `/topic/rooms/${stage.chatRoom}`;
    const sender = await RawStomp.connect(stage.wsUrl, stage.tokens.sender);
    const receiver = await RawStomp.connect(stage.wsUrl, stage.tokens.receiver);
    receiver.sendFrame("SUBSCRIBE", { id: "chat", destination: dest, receipt: "in" });
    await receiver.next((f) => f.command === "RECEIPT");
    return new HealthyChat(sender, receiver, stage.chatRoom);
  }

  /** Sends one message every `everyMs` until stop(). */
  start(everyMs: number): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const text = `healthy ${++this.sent}`;
        this.sentAt.set(text, performance.now());
        this.sender.sendFrame(
          "SEND",
          { destination: `/topic/rooms/${this.roomId}`, receipt: text },
          JSON.stringify({ text }),
        );
        await Bun.sleep(everyMs);
        this.collect();
      }
    })();
  }

  /** Stops sending and waits (bounded) for what was sent to arrive; resolves with how many arrived. */
  async stop(waitMs = 10_000): Promise<number> {
    this.running = false;
    await this.loop;
    const deadline = performance.now() + waitMs;
    while (this.latencies.length < this.sent && performance.now() < deadline) {
      await Bun.sleep(20);
      this.collect();
    }
    this.sender.close();
    this.receiver.close();
    return this.latencies.length;
  }

  private collect(): void {
    this.receiver.take("MESSAGE");
    this.receipts += this.sender.take("RECEIPT").length;
  }
}

/** Polls /healthz until stopped; each sample is its answer time in ms, or Infinity for no 200 within 5 s. */
export function probeHealth(baseUrl: string, everyMs: number): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const ok = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      samples.push(ok ? performance.now() - t0 : Number.POSITIVE_INFINITY);
      await Bun.sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
