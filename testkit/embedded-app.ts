import { readFileSync } from "node:fs";
import { type AppProcess, startAppProcess } from "./app-process.ts";
import { TEST_PASSWORD } from "./credentials.ts";

/**
 * The one-process app as a child process on embedded adapters only (whatever services the test run
 * has), with the helpers attack tests need: sign-up, JSON calls and the child's resident memory.
 */
export interface EmbeddedApp extends AppProcess {
  /** ws://…/ws */
  wsUrl: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON fields
  ): Promise<{ status: number; body: any; headers: Headers }>;
  signup(name: string): Promise<{ id: string; username: string; token: string; refreshToken: string }>;
  /** The child's resident set size in bytes, from /proc. */
  rss(): number;
}

/** Settings that keep a process on embedded adapters whatever service URLs the test run exports. */
export const EMBEDDED_ONLY = { KAFKA_BROKERS: "", DATABASE_URL: "", MONGO_URL: "", REDIS_URL: "" } as const;

let n = 0;

export async function startEmbeddedApp(env: Record<string, string> = {}): Promise<EmbeddedApp> {
  const app = await startAppProcess("apps/main.ts", {
    JWT_SECRET: "embedded-app-test-secret-long-enough-hs256",
    ...EMBEDDED_ONLY,
    LOG_LEVEL: "error",
    WEB_DIR: "",
    ...env,
  });
  const call: EmbeddedApp["call"] = async (method, path, body, token) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = (res.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : text;
    return { status: res.status, body: json, headers: res.headers };
  };
  return {
    ...app,
    wsUrl: `${app.url.replace("http:", "ws:")}/ws`,
    call,
    async signup(name) {
      const username = `${name}${++n}${Math.random().toString(36).slice(2, 6)}`;
      const res = await call("POST", "/api/auth/signup", { username, password: TEST_PASSWORD });
      if (res.status !== 201) throw new Error(`signup: ${res.status} ${JSON.stringify(res.body)}`);
      return {
        id: res.body.user.id,
        username,
        token: res.body.accessToken,
        refreshToken: res.body.refreshToken,
      };
    },
    rss() {
      const status = readFileSync(`/proc/${app.proc.pid}/status`, "utf8");
      const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
      if (!kb) throw new Error("no VmRSS for the app process");
      return Number(kb) * 1024;
    },
  };
}
