// Enqueue a FlashFlow job from Node (docs/producers.md), with the `redis` npm package.
//   REDIS_URL=redis://HOST:6379/0 node enqueue.mjs enqueue_reference '{"url": "https://www.tiktok.com/@a/video/1"}'
// The job's queue is read from its JSON Schema in ../../schemas (key "x-flashflow-queue").
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createClient } from "redis";

const NAMESPACE = "dramatiq";

/** The message a worker expects: exactly these seven fields. */
export function buildMessage(queue, actor, kwargs) {
  const redisId = randomUUID();
  return {
    queue_name: queue,
    actor_name: actor,
    args: [],
    kwargs,
    options: { redis_message_id: redisId },
    message_id: randomUUID(),
    message_timestamp: Date.now(),
  };
}

/** HSET the payload and RPUSH its id in one MULTI/EXEC, so a worker never sees one without the other. */
export async function enqueue(client, message) {
  const queueKey = `${NAMESPACE}:${message.queue_name}`;
  const id = message.options.redis_message_id;
  await client.multi().hSet(`${queueKey}.msgs`, id, JSON.stringify(message)).rPush(queueKey, id).exec();
  return message.message_id;
}

export function queueOf(actor) {
  const schema = JSON.parse(readFileSync(new URL(`../../schemas/${actor}.json`, import.meta.url), "utf8"));
  return schema["x-flashflow-queue"];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [actor, kwargsJson = "{}"] = process.argv.slice(2);
  const client = createClient({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0" });
  client.on("error", (err) => { console.error(err); process.exitCode = 1; });
  await client.connect();
  try {
    console.log(await enqueue(client, buildMessage(queueOf(actor), actor, JSON.parse(kwargsJson))));
  } finally {
    await client.quit();
  }
}
