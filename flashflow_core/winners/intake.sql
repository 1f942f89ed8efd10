-- Rows that need their message sent: those inserted straight into Postgres (status queued, no
-- correlation id), and those that owe one (message_owed_since set; migration 20261201002100).

-- name: take_in
-- Claim a batch once across all workers (SKIP LOCKED, and the correlation id marks the row as
-- taken in), each with a reference.submitted audit row (written by the transition trigger from
-- audit_context), in one statement.
WITH waiting AS (
    SELECT id FROM reference_videos
    WHERE status = %(status)s AND correlation_id IS NULL
    ORDER BY created_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
UPDATE reference_videos r
SET correlation_id = replace(gen_random_uuid()::text, '-', ''),
    audit_context = jsonb_build_object(
        'event', 'reference.submitted', 'actor', r.submitted_by,
        'summary', 'taken in from the database: ' || r.url,
        'details', jsonb_build_object('url', r.url, 'category', r.category, 'via', 'database'))
FROM waiting
WHERE r.id = waiting.id
RETURNING r.id, r.correlation_id;

-- name: owe_message
-- In the transaction that makes a row need a message (a retry, an attachment; a submission and a
-- stage's finish set it in their own statements, queries.sql).
UPDATE reference_videos SET message_owed_since = now() WHERE id = %(id)s;

-- name: settle_owed
-- The messages of these rows are in Redis, for the stage that the statuses %(waiting)s wait on. A row
-- that has already moved past them owes the next stage's message (a fast worker finished the stage
-- before this sender settled): that debt is not this message's to clear.
UPDATE reference_videos SET message_owed_since = NULL
WHERE id = ANY(%(ids)s) AND message_owed_since IS NOT NULL AND status = ANY(%(waiting)s);

-- name: take_owed
-- Rows that have owed a message for longer than the sender needs to send it, once across all
-- workers (SKIP LOCKED); the marker is cleared here and comes back if the transaction rolls back
-- because a send failed. `waiting` is false for a row that no longer waits for a message (final,
-- or an attempt holds its lease): it is only settled.
WITH owed AS (
    SELECT id FROM reference_videos
    WHERE message_owed_since < now() - make_interval(secs => %(grace_s)s)
    ORDER BY message_owed_since
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
UPDATE reference_videos r
SET message_owed_since = NULL
FROM owed
WHERE r.id = owed.id
RETURNING r.id, r.status, r.correlation_id,
          (r.lease_until IS NULL OR r.lease_until <= now()) AND r.status = ANY(%(waiting)s) AS waiting;
