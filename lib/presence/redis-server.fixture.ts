import type { Subprocess } from "bun";

/**
 * A redis-server of a test's own on a free port (never the shared one), so the test can stop it and
 * start it again empty on the same port to simulate an outage.
 */
export class OwnRedis {
  static readonly binary = Bun.which("redis-server");
  private server: Subprocess | undefined;

  private constructor(readonly port: number) {}

  static async create(): Promise<OwnRedis> {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    return new OwnRedis(port);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!OwnRedis.binary) throw new Error("redis-server is not installed");
    this.server = Bun.spawn(
      [
        OwnRedis.binary,
        "--bind",
        "127.0.0.1",
        "--port",
        String(this.port),
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    const deadline = Date.now() + 10_000;
    while (!(await this.answers())) {
      if (Date.now() > deadline) throw new Error("own redis-server did not start");
      await Bun.sleep(50);
    }
  }

  /** Gone at once, as in a crash: everything it held is lost. */
  async stop(): Promise<void> {
    this.server?.kill("SIGKILL");
    await this.server?.exited;
    this.server = undefined;
  }

  private async answers(): Promise<boolean> {
    const ping = Bun.spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(this.port), "ping"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    return (await new Response(ping.stdout).text()).trim() === "PONG";
  }
}
