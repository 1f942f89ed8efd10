-- Taking in reference_videos rows inserted straight into Postgres (status queued, no correlation id).

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
