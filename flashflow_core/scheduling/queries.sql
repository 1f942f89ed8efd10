-- name: claim_fire
-- Claim one tick of one schedule. Inserted in the transaction that sends the message: a
-- concurrent claim of the same tick waits on this key, then finds the row and gets nothing.
INSERT INTO public.flashflow_schedule_fires (schedule, fire_time, actor, message_id, scheduler)
VALUES (%(schedule)s, %(fire_time)s, %(actor)s, %(message_id)s, %(scheduler)s)
ON CONFLICT (schedule, fire_time) DO NOTHING
RETURNING message_id;

-- name: last_fires
SELECT DISTINCT ON (schedule) schedule, fire_time, message_id, scheduler, enqueued_at
FROM public.flashflow_schedule_fires
ORDER BY schedule, fire_time DESC;

-- name: prune_fires
DELETE FROM public.flashflow_schedule_fires
WHERE enqueued_at < now() - make_interval(secs => %(keep_s)s);

-- name: try_lock
SELECT pg_try_advisory_lock(%(key)s) AS locked;

-- name: unlock
SELECT pg_advisory_unlock(%(key)s) AS unlocked;
