-- Finding one Winners Bank row, and what `flashflow show` and the console show of it.

-- name: by_id
SELECT id, url, status, created_at FROM reference_videos WHERE id = %(id)s;

-- name: by_id_range
-- Ids starting with a prefix: the prefix padded with 0s and with fs bounds them, so the primary
-- key's index answers (a text LIKE on the uuid could not use it).
SELECT id, url, status, created_at FROM reference_videos
WHERE id BETWEEN %(low)s AND %(high)s
ORDER BY id
LIMIT %(limit)s;

-- name: by_url
SELECT id, url, status, created_at FROM reference_videos WHERE url = ANY(%(urls)s) ORDER BY created_at;

-- name: by_message_id
-- Rows whose audit trail names this message: the producer's enqueue_reference, or any stage's.
SELECT r.id, r.url, r.status, r.created_at
FROM reference_videos r
WHERE r.id::text IN (SELECT a.entity_id FROM audit_log a
                     WHERE a.message_id = %(message_id)s AND a.entity_type = 'reference_video')
ORDER BY r.created_at
LIMIT %(limit)s;

-- name: message_events
-- What the audit trail says about a message that made no row (dead-lettered, refused...).
SELECT created_at, event_type, entity_type, entity_id, summary
FROM audit_log
WHERE message_id = %(message_id)s OR (entity_type = 'message' AND entity_id = %(message_id)s)
ORDER BY created_at DESC, id
LIMIT 5;

-- name: reference
SELECT * FROM reference_videos WHERE id = %(id)s;

-- name: timeline
-- Every audit event of the row, oldest first; `attempt` is the stage attempt a claim recorded.
-- Rows written in one transaction share created_at; ctid keeps them in insertion order (audit rows
-- are never updated), where the random uuid id would shuffle them.
SELECT created_at AS at, event_type AS event, actor, (details ->> 'attempt')::int AS attempt, message_id, summary
FROM audit_log
WHERE entity_type = 'reference_video' AND entity_id = %(id)s::text
ORDER BY created_at, ctid;

-- name: assets
SELECT asset_type, storage_path, length(transcript_text) AS transcript_chars, details, created_at, updated_at
FROM reference_assets
WHERE reference_video_id = %(id)s
ORDER BY asset_type;

-- name: hook_package
SELECT * FROM reference_extracts WHERE reference_video_id = %(id)s;
