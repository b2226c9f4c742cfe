/**
 * One-shot health probes that bash cannot make itself, run by scripts/services:
 *   bun scripts/services.d/health.ts kafka 127.0.0.1:59092        (a metadata request, kafkajs)
 *   bun scripts/services.d/health.ts mongo mongodb://127.0.0.1:57017/   (a `ping` command)
 * Exits 0 and prints what answered when the service replies; exits 1 with the reason otherwise.
 */

/** Generous for one request on a loaded 2-core box, short enough for a polling loop. */
const probeTimeoutMs = 8000;

async function kafkaAnswers(brokers: string): Promise<string> {
  const { Kafka, logLevel } = await import("kafkajs");
  const admin = new Kafka({
    clientId: "chattalk-health",
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  }).admin();
  await admin.connect();
  try {
    // The metadata response lists a broker only once it has registered with the controller.
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error("metadata lists no broker yet");
    const topics = await admin.listTopics();
    return `kafka: ${cluster.brokers.length} broker(s), ${topics.length} topic(s)`;
  } finally {
    await admin.disconnect();
  }
}

async function mongoAnswers(url: string): Promise<string> {
  const { MongoClient } = await import("mongodb");
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    const reply = await client.db("admin").command({ ping: 1 });
    if (reply.ok !== 1) throw new Error(`ping replied ${JSON.stringify(reply)}`);
    return "mongo: ping ok";
  } finally {
    await client.close();
  }
}

const probes: Record<string, (target: string) => Promise<string>> = {
  kafka: kafkaAnswers,
  mongo: mongoAnswers,
};

async function main(args: string[]): Promise<number> {
  const [kind = "", target = ""] = args;
  const probe = probes[kind];
  if (!probe || !target) {
    console.error(`usage: health.ts <${Object.keys(probes).join("|")}> <address>`);
    return 2;
  }
  setTimeout(() => {
    console.error(`${kind}: no answer from ${target} within ${probeTimeoutMs} ms`);
    process.exit(1);
  }, probeTimeoutMs).unref();
  try {
    console.log(await probe(target));
    return 0;
  } catch (error) {
    console.error(`${kind}: ${target}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
