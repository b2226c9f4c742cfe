import { closeSync, openSync } from "node:fs";
import type { Subprocess } from "bun";

/** The toxiproxy server this suite started, driven through its HTTP API. */
export class Toxiproxy {
  private constructor(
    private readonly proc: Subprocess,
    readonly api: string,
  ) {}

  static async start(bin: string, port: number, log: string): Promise<Toxiproxy> {
    const fd = openSync(log, "a");
    const proc = Bun.spawn([bin, "-host", "127.0.0.1", "-port", String(port)], {
      stdout: fd,
      stderr: fd,
      stdin: "ignore",
    });
    closeSync(fd);
    const t = new Toxiproxy(proc, `http://127.0.0.1:${port}`);
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${t.api}/version`).catch(() => undefined))?.ok) return t;
      if (proc.exitCode !== null) break;
      await Bun.sleep(100);
    }
    proc.kill("SIGKILL");
    throw new Error(`toxiproxy did not start on :${port}; see ${log}`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<void> {
    const res = await fetch(`${this.api}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok && res.status !== 404)
      throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${await res.text()}`);
  }

  createProxy(name: string, listen: string, upstream: string): Promise<void> {
    return this.call("POST", "/proxies", { name, listen, upstream, enabled: true });
  }

  /** Off: every connection through it is closed and new ones are refused; on: it listens again. */
  setEnabled(name: string, enabled: boolean): Promise<void> {
    return this.call("POST", `/proxies/${name}`, { enabled });
  }

  /** A toxic in both directions (latency, timeout = blackhole, reset_peer = RST). */
  async addToxic(proxy: string, type: string, attributes: Record<string, number>): Promise<void> {
    for (const stream of ["upstream", "downstream"]) {
      await this.call("POST", `/proxies/${proxy}/toxics`, {
        name: `${type}_${stream}`,
        type,
        stream,
        attributes,
      });
    }
  }

  async removeToxic(proxy: string, type: string): Promise<void> {
    for (const stream of ["upstream", "downstream"])
      await this.call("DELETE", `/proxies/${proxy}/toxics/${type}_${stream}`);
  }

  async stop(): Promise<void> {
    this.proc.kill("SIGTERM");
    await this.proc.exited;
  }
}
