/**
 * Load driver of the login-rush benchmark (bench/login-rush.ts): virtual users in one process, each a
 * loop of HTTP calls with its own X-Forwarded-For address.
 *
 *   bun bench/login-rush-driver.ts <baseUrl> <settings JSON: users, rampMs, durationMs, thinkMinMs, thinkMaxMs>
 *
 * stdout, at the end: `result <URI-encoded JSON {routes, seconds, usersIn, usersOut}>`.
 */
import type { RouteStats } from "./login-rush.ts";

const [base, settingsJson] = process.argv.slice(2);
if (!base || !settingsJson) {
  console.error("usage: login-rush-driver.ts <baseUrl> <settings JSON>");
  process.exit(2);
}
const s = JSON.parse(settingsJson) as {
  users: number;
  rampMs: number;
  durationMs: number;
  thinkMinMs: number;
  thinkMaxMs: number;
};
const run = Date.now().toString(36);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const think = () => sleep(s.thinkMinMs + Math.random() * (s.thinkMaxMs - s.thinkMinMs));

interface Samples {
  latencies: number[];
  failures: number;
  busy: number;
  gaveUp: number;
}
const t0 = performance.now();
const endAt = t0 + s.durationMs;
const routes = new Map<string, Samples>();
const samples = (route: string) => {
  let r = routes.get(route);
  if (!r) {
    r = { latencies: [], failures: 0, busy: 0, gaveUp: 0 };
    routes.set(route, r);
  }
  return r;
};

/** One request; a 503 busy is retried after Retry-After. Resolves with the JSON body, or undefined on failure. */
async function call(
  route: string,
  path: string,
  ip: string,
  init: { method: string; body?: unknown; token?: string },
): Promise<Record<string, unknown> | undefined> {
  const stats = samples(route);
  for (;;) {
    const t0 = performance.now();
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: init.method,
        headers: {
          "x-forwarded-for": ip,
          ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
          ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      });
    } catch (err) {
      stats.failures++;
      console.error(`driver: ${route}: ${String(err)}`);
      return undefined;
    }
    const text = await res.text();
    stats.latencies.push(performance.now() - t0);
    if (res.status === 503 && res.headers.get("retry-after")) {
      stats.busy++;
      const wait = Number(res.headers.get("retry-after")) * 1000;
      // Past the scenario's end a user gives up (it never got in): the run stays bounded.
      if (performance.now() + wait > endAt) {
        stats.gaveUp++;
        return undefined;
      }
      await sleep(wait);
      continue;
    }
    if (!res.ok) {
      stats.failures++;
      if (stats.failures <= 3) console.error(`driver: ${route}: ${res.status} ${text.slice(0, 200)}`);
      return undefined;
    }
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }
}

let usersIn = 0;
let usersOut = 0;

async function user(i: number): Promise<void> {
  await sleep((i * s.rampMs) / s.users);
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const credentials = { username: `rush${run}u${i}`, password: "rush-password-1" };
  const signedUp = await call("POST /api/auth/signup", "/api/auth/signup", ip, {
    method: "POST",
    body: credentials,
  });
  if (!signedUp) return;
  const session = await call("POST /api/auth/login", "/api/auth/login", ip, {
    method: "POST",
    body: credentials,
  });
  if (!session) return;
  usersIn++;
  const token = session.accessToken as string;
  let n = 0;
  while (performance.now() < endAt) {
    if (n++ % 2 === 0) {
      await call("GET /api/rooms/discover", "/api/rooms/discover", ip, { method: "GET", token });
    } else {
      await call("POST /api/rooms", "/api/rooms", ip, {
        method: "POST",
        token,
        body: { name: `room ${i}-${n}`, maxMembers: 10 },
      });
    }
    await think();
  }
  const out = await call("POST /api/auth/logout", "/api/auth/logout", ip, {
    method: "POST",
    body: { refreshToken: session.refreshToken },
  });
  if (out) usersOut++;
}

await Promise.all(Array.from({ length: s.users }, (_, i) => user(i)));
const seconds = (performance.now() - t0) / 1000;
const pick = (sorted: Float64Array, q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0;
const order = ["signup", "login", "discover", "POST /api/rooms", "logout"];
const result: RouteStats[] = [...routes]
  .sort(([a], [b]) => order.findIndex((o) => a.includes(o)) - order.findIndex((o) => b.includes(o)))
  .map(([route, r]) => {
    const sorted = Float64Array.from(r.latencies).sort();
    return {
      route,
      count: r.latencies.length,
      failures: r.failures,
      busy: r.busy,
      gaveUp: r.gaveUp,
      p50: pick(sorted, 0.5),
      p95: pick(sorted, 0.95),
      p99: pick(sorted, 0.99),
      max: sorted.at(-1) ?? 0,
    };
  });
console.log(`result ${encodeURIComponent(JSON.stringify({ routes: result, seconds, usersIn, usersOut }))}`);
// Wait for the parent's exit line (or stdin closing) so the result is read before this process ends.
for await (const _ of console) break;
process.exit(0);
