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

-- name: recent_fires
-- The latest `per_schedule` ledger rows of each schedule, newest first.
SELECT schedule, fire_time, actor, message_id, scheduler, enqueued_at
FROM (SELECT f.*, row_number() OVER (PARTITION BY schedule ORDER BY fire_time DESC) AS n
      FROM public.flashflow_schedule_fires f) ranked
WHERE n <= %(per_schedule)s
ORDER BY schedule, fire_time DESC;

-- name: leader
-- The session holding the scheduler lock in this database. A bigint advisory lock shows in pg_locks
-- as classid = its high 32 bits, objid = its low 32 bits, objsubid = 1.
SELECT a.pid, a.application_name, host(a.client_addr) AS client_addr, a.backend_start
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid::bigint = %(hi)s AND l.objid::bigint = %(lo)s
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
