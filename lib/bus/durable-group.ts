/**
 * The Kafka consumer group of a durable reader (consume): per topic, so installations or test runs on
 * other topics never share a rebalance. The lag metrics measure the same name (lib/metrics). Apart
 * from the Kafka adapter, so naming a group does not load kafkajs.
 */
export function durableGroupId(group: string, topic: string): string {
  return `${group}.${topic}`;
}
