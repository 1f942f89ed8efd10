-- Winners Bank queries. Statuses come in as parameters from the Move in states.py that a
-- statement carries out (%(sources)s, %(target)s), never spelled here. Each status change is
-- conditional on the statuses the move starts from, and sets `audit_context` (%(audit)s): the
-- reference_videos_transition trigger writes the one audit_log row, stamps status_changed_at and,
-- for a fresh move, resets the per-stage counters (migration 20261201000100).

-- name: insert_reference
-- The new row owes its fetch message until the sender settles it (intake.sql).
INSERT INTO reference_videos (url, submitted_by, notes, category, status, correlation_id, message_owed_since)
VALUES (%(url)s, %(submitted_by)s, %(notes)s, %(category)s, %(status)s, %(correlation_id)s, now())
ON CONFLICT (url) DO NOTHING
RETURNING id, url, status, correlation_id;

-- name: get_reference_by_url
SELECT id, url, status, correlation_id FROM reference_videos WHERE url = %(url)s;

-- name: message_recorded
-- Whether the row's audit trail already has a row of this message: the same job delivered again.
SELECT EXISTS (SELECT 1 FROM audit_log
               WHERE message_id = %(message_id)s AND entity_type = 'reference_video'
                 AND entity_id = %(id)s::text) AS recorded;

-- name: get_reference
SELECT * FROM reference_videos WHERE id = %(id)s;

-- name: get_reference_url
SELECT url FROM reference_videos WHERE id = %(id)s;

-- name: claim_stage
-- Take the lease on a row for one attempt at a stage, in one statement: a lease left behind by a
-- worker that died (lapsed, or held by this very message coming back after a crash) counts as a
-- crash; a status change or a crash is audited; the row's assets come back with it. The attempt
-- gets the next lease_token (its fencing token): every later write of the attempt requires it.
WITH claimed AS (
    UPDATE reference_videos r
    SET status = %(target)s,
        lease_until = now() + make_interval(secs => %(lease_s)s),
        lease_message_id = %(message_id)s,
        lease_token = r.lease_token + 1,
        stage_attempts = r.stage_attempts + 1,
        crash_count = r.crash_count + CASE WHEN r.lease_until IS NOT NULL THEN 1 ELSE 0 END,
        audit_context = CASE WHEN r.status <> %(target)s OR r.lease_until IS NOT NULL THEN
            %(audit)s::jsonb || jsonb_build_object(
                'summary', r.status || ' -> ' || %(target)s || ' (attempt ' || (r.stage_attempts + 1) || ')',
                'details', jsonb_build_object(
                    'attempt', r.stage_attempts + 1,
                    'crashes', r.crash_count + CASE WHEN r.lease_until IS NOT NULL THEN 1 ELSE 0 END))
        END
    WHERE r.id = %(id)s
      AND r.status = ANY(%(sources)s)
      AND (r.lease_until IS NULL OR r.lease_until < now() OR r.lease_message_id = %(message_id)s)
    RETURNING r.id, r.url, r.status, r.correlation_id, r.stage_attempts, r.crash_count, r.throttle_count,
              r.category, r.source_meta, r.lease_token
)
SELECT c.*,
       coalesce((SELECT jsonb_object_agg(a.asset_type, jsonb_build_object(
                    'storage_path', a.storage_path, 'transcript_text', a.transcript_text))
                 FROM reference_assets a WHERE a.reference_video_id = c.id), '{}'::jsonb) AS assets
FROM claimed c;

-- name: advance
-- Finish a stage in one statement: move on (only from the status the stage worked in, and only
-- while this attempt still holds the lease under its token), and only then store what it made and
-- clear the lease. The assets switch to the attempt's files here; the paths they pointed at before
-- come back as `superseded`, for the caller to remove. A row that moves on to another stage owes
-- that stage's message from this commit (%(owes_message)s), until the worker's send settles it
-- (intake.sql): a worker that dies in between leaves the intake to send it, not the slow rescue.
WITH moved AS (
    UPDATE reference_videos
    SET status = %(target)s,
        lease_until = NULL,
        lease_message_id = NULL,
        message_owed_since = CASE WHEN %(owes_message)s THEN now() END,
        source_meta = source_meta || %(meta)s,
        audit_context = %(audit)s
    WHERE id = %(id)s AND status = ANY(%(sources)s) AND lease_token = %(token)s AND lease_until IS NOT NULL
    RETURNING id
), before AS (
    SELECT a.asset_type, a.storage_path FROM reference_assets a JOIN moved m ON a.reference_video_id = m.id
), assets AS (
    INSERT INTO reference_assets (reference_video_id, asset_type, storage_path, transcript_text, details,
                                  language, language_probability, confidence)
    SELECT m.id, a.asset_type, a.storage_path, a.transcript_text, coalesce(a.details, '{}'::jsonb),
           a.language, a.language_probability, a.confidence
    FROM moved m
    CROSS JOIN jsonb_to_recordset(%(assets)s) AS a(asset_type text, storage_path text, transcript_text text,
                                                   details jsonb, language text, language_probability real,
                                                   confidence real)
    ON CONFLICT (reference_video_id, asset_type) DO UPDATE
    SET storage_path = EXCLUDED.storage_path,
        transcript_text = EXCLUDED.transcript_text,
        details = EXCLUDED.details,
        language = EXCLUDED.language,
        language_probability = EXCLUDED.language_probability,
        confidence = EXCLUDED.confidence
), extract AS (
    INSERT INTO reference_extracts
        (reference_video_id, spoken_hook, on_screen_hook, visual_hook, cta, hook_family, structure_tags,
         quality_score)
    SELECT m.id, e.spoken_hook, e.on_screen_hook, e.visual_hook, e.cta, e.hook_family, e.structure_tags,
           e.quality_score
    FROM moved m
    CROSS JOIN jsonb_to_recordset(%(extracts)s) AS e(spoken_hook text, on_screen_hook text, visual_hook text,
                                                     cta text, hook_family text, structure_tags jsonb,
                                                     quality_score integer)
    ON CONFLICT (reference_video_id) DO UPDATE
    SET spoken_hook = EXCLUDED.spoken_hook,
        on_screen_hook = EXCLUDED.on_screen_hook,
        visual_hook = EXCLUDED.visual_hook,
        cta = EXCLUDED.cta,
        hook_family = EXCLUDED.hook_family,
        structure_tags = EXCLUDED.structure_tags,
        quality_score = EXCLUDED.quality_score
)
SELECT m.id,
       coalesce((SELECT array_agg(b.storage_path)
                 FROM before b
                 JOIN jsonb_to_recordset(%(assets)s) AS n(asset_type text, storage_path text)
                   ON n.asset_type = b.asset_type
                 WHERE b.storage_path IS DISTINCT FROM n.storage_path AND b.storage_path IS NOT NULL),
                '{}') AS superseded
FROM moved m;

-- name: release
-- Give the lease back after an attempt that will be retried, only while this attempt holds it under
-- its token. A throttled attempt was not the video's fault: it costs no attempt, but is counted in
-- throttle_count.
UPDATE reference_videos
SET lease_until = NULL,
    lease_message_id = NULL,
    last_error = %(error)s,
    stage_attempts = CASE WHEN %(throttled)s THEN greatest(stage_attempts - 1, 0) ELSE stage_attempts END,
    throttle_count = throttle_count + CASE WHEN %(throttled)s THEN 1 ELSE 0 END
WHERE id = %(id)s AND status = %(expected)s AND lease_token = %(token)s AND lease_until IS NOT NULL
RETURNING id;

-- name: fail
-- A stage gives up on the row, only while this attempt holds the lease under its token.
UPDATE reference_videos
SET status = %(target)s,
    failed_stage = %(stage)s,
    error_message = %(error)s,
    lease_until = NULL,
    lease_message_id = NULL,
    audit_context = %(audit)s
WHERE id = %(id)s AND status = ANY(%(sources)s) AND lease_token = %(token)s AND lease_until IS NOT NULL
RETURNING id;

-- name: restart
-- `flashflow retry`: a failed row starts again, as a new run, from the status its failed stage
-- starts from.
UPDATE reference_videos
SET status = %(target)s,
    correlation_id = %(correlation_id)s,
    audit_context = %(audit)s
WHERE id = %(id)s AND status = ANY(%(sources)s) AND failed_stage = ANY(%(failed_stages)s)
RETURNING id;

-- name: asset_path
-- The file a row's asset names now, locked until the attachment that replaces it commits.
SELECT storage_path FROM reference_assets
WHERE reference_video_id = %(id)s AND asset_type = %(asset_type)s
FOR UPDATE;

-- name: upsert_asset
-- A person's file or transcript: whatever a transcriber had found about the old one is cleared.
INSERT INTO reference_assets (reference_video_id, asset_type, storage_path, transcript_text, details)
VALUES (%(id)s, %(asset_type)s, %(storage_path)s, %(transcript_text)s, %(details)s)
ON CONFLICT (reference_video_id, asset_type) DO UPDATE
SET storage_path = EXCLUDED.storage_path,
    transcript_text = EXCLUDED.transcript_text,
    details = EXCLUDED.details,
    language = NULL,
    language_probability = NULL,
    confidence = NULL;

-- name: move_for_attach
-- A person supplies what a stage would have produced; the row resumes, as a new run, at the next
-- stage. A failed row qualifies only when it failed at a stage the attachment replaces.
UPDATE reference_videos
SET status = %(target)s,
    correlation_id = %(correlation_id)s,
    lease_until = NULL,
    lease_message_id = NULL,
    source_meta = source_meta || %(meta)s,
    audit_context = %(audit)s
WHERE id = %(id)s AND status = ANY(%(sources)s)
  AND (status <> %(failed)s OR failed_stage = ANY(%(failed_stages)s))
  AND (lease_until IS NULL OR lease_until < now())
RETURNING id;

-- name: stuck_references
-- In-flight rows that have gone quiet: no live lease (a running attempt renews its own, which also
-- touches updated_at) and untouched for quiet_s. Bumps resend_count, so resends are bounded.
UPDATE reference_videos r
SET resend_count = r.resend_count + 1,
    lease_until = NULL,
    lease_message_id = NULL
FROM (
    SELECT id FROM reference_videos
    WHERE status = ANY(%(in_flight)s)
      AND NOT (status = ANY(%(skip)s::text[]))
      AND (lease_until IS NULL OR lease_until < now())
      AND updated_at < now() - make_interval(secs => %(quiet_s)s)
    ORDER BY status_changed_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
) stuck
WHERE r.id = stuck.id
RETURNING r.id, r.status, r.resend_count, r.correlation_id;

-- name: abandon
-- The rescue gives up on rows it re-sent too often; each fails at the stage its status waits on
-- (%(stage_for_status)s maps status -> stage, from states.STAGE_FOR_STATUS).
UPDATE reference_videos r
SET status = %(target)s,
    failed_stage = %(stage_for_status)s::jsonb ->> r.status,
    error_message = (%(stage_for_status)s::jsonb ->> r.status)
        || ': no progress after ' || (r.resend_count - 1)
        || ' resends by the stuck-work rescue; retry with `flashflow retry`',
    audit_context = %(audit)s::jsonb || jsonb_build_object(
        'summary', r.status || ' -> ' || %(target)s || ': no progress after ' || (r.resend_count - 1) || ' resends',
        'details', jsonb_build_object('stage', %(stage_for_status)s::jsonb ->> r.status,
                                      'resends', r.resend_count - 1))
WHERE r.id = ANY(%(ids)s) AND r.status = ANY(%(sources)s)
RETURNING r.id;

-- name: cancel
-- A person stops a waiting row (no live lease: a running attempt is never cut off): it fails at the
-- stage its status waits on (%(stage_for_status)s, from states.STAGE_FOR_STATUS) with who canceled it
-- as the error; a message still on its way finds nothing to claim.
UPDATE reference_videos r
SET status = %(target)s,
    failed_stage = %(stage_for_status)s::jsonb ->> r.status,
    error_message = %(error)s,
    lease_until = NULL,
    lease_message_id = NULL,
    audit_context = %(audit)s::jsonb || jsonb_build_object(
        'summary', r.status || ' -> ' || %(target)s || ': ' || %(error)s,
        'details', jsonb_build_object('stage', %(stage_for_status)s::jsonb ->> r.status))
WHERE r.id = %(id)s AND r.status = ANY(%(sources)s) AND (r.lease_until IS NULL OR r.lease_until < now())
RETURNING r.id, r.failed_stage;

-- name: status_counts
SELECT status, count(*) AS n, min(status_changed_at) AS oldest
FROM reference_videos GROUP BY status;

-- name: oldest_in_flight
SELECT DISTINCT ON (status) status, id, url, status_changed_at
FROM reference_videos
WHERE status <> ALL(%(final)s)
ORDER BY status, status_changed_at;

-- name: latest_failures
SELECT id, url, failed_stage, error_message, updated_at
FROM reference_videos WHERE status = %(failed)s
ORDER BY updated_at DESC LIMIT %(limit)s;
