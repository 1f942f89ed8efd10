#!/bin/sh
# Enqueue the enqueue_reference job with redis-cli alone (docs/producers.md).
# Usage: REDIS_URL=redis://HOST:6379/0 ./enqueue_reference.sh URL [SUBMITTED_BY]
# The values go into JSON as they are: they must not contain `"` or `\`.
set -eu
URL="$1"
SUBMITTED_BY="${2:-web-app}"
MESSAGE_ID=$(cat /proc/sys/kernel/random/uuid)   # or: uuidgen
REDIS_ID=$(cat /proc/sys/kernel/random/uuid)
NOW_MS=$(($(date +%s) * 1000))
PAYLOAD=$(printf '{"queue_name":"default","actor_name":"enqueue_reference","args":[],"kwargs":{"url":"%s","submitted_by":"%s"},"options":{"redis_message_id":"%s"},"message_id":"%s","message_timestamp":%s}' \
  "$URL" "$SUBMITTED_BY" "$REDIS_ID" "$MESSAGE_ID" "$NOW_MS")
redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" EVAL \
  "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return redis.call('RPUSH', KEYS[2], ARGV[1])" \
  2 dramatiq:default.msgs dramatiq:default "$REDIS_ID" "$PAYLOAD"
echo "$MESSAGE_ID"
