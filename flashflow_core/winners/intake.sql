-- Taking in reference_videos rows inserted straight into Postgres (status queued, no correlation id).

-- name: take_in
-- Claim a batch once across all workers (SKIP LOCKED, and the correlation id marks the row as
-- taken in), with a reference.submitted audit row for each, in one statement.
WITH waiting AS (
    SELECT id FROM reference_videos
    WHERE status = 'queued' AND correlation_id IS NULL
    ORDER BY created_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), taken AS (
    UPDATE reference_videos r
    SET correlation_id = replace(gen_random_uuid()::text, '-', '')
    FROM waiting
    WHERE r.id = waiting.id
    RETURNING r.id, r.url, r.submitted_by, r.category, r.correlation_id
), audit AS (
    INSERT INTO audit_log (correlation_id, event_type, entity_type, entity_id, actor, summary, details)
    SELECT correlation_id, 'reference.submitted', 'reference_video', id::text, submitted_by,
           'taken in from the database: ' || url,
           jsonb_build_object('url', url, 'category', category, 'via', 'database')
    FROM taken
)
SELECT id, correlation_id FROM taken;
