import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "redis";
import { serviceUrl, skipWithout } from "../../testkit/services.ts";

type RedisClient = ReturnType<typeof createClient>;

describe.skipIf(skipWithout("redis"))("redis smoke (node-redis pub/sub)", () => {
  let publisher: RedisClient;
  let subscriber: RedisClient;

  beforeAll(async () => {
    publisher = createClient({ url: serviceUrl("redis")! });
    // A subscribed connection can only run pub/sub commands, so it is a second connection.
    subscriber = publisher.duplicate();
    await Promise.all([publisher.connect(), subscriber.connect()]);
  });

  afterAll(async () => {
    await Promise.all([publisher?.close(), subscriber?.close()]);
  });

  test("PUBLISH reaches the one SUBSCRIBEr of a fresh channel", async () => {
    const channel = `chattalk:smoke:${crypto.randomUUID()}`;
    const { promise: received, resolve } = Promise.withResolvers<{ message: string; channel: string }>();
    // Resolves once Redis has confirmed the subscription, so the publish below cannot miss it.
    await subscriber.subscribe(channel, (message, from) => resolve({ message, channel: from }));

    const receivers = await publisher.publish(channel, "hello over redis");

    expect(receivers).toBe(1);
    expect(await received).toEqual({ message: "hello over redis", channel });
    await subscriber.unsubscribe(channel);
    expect(await publisher.publish(channel, "nobody listens")).toBe(0);
  });
});
