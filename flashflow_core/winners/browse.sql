-- Reading the Winners Bank for people (the console): a filtered, paged list and one row's story.
-- A URL's host is `substring(url from HOST_RE)`, spelled out in each query that needs it.

-- name: list_references
-- Newest first. `hosts`: the site's hosts (NULL: any); `host_suffix`: a LIKE pattern for its subdomains.
SELECT r.id, r.url, r.status, r.failed_stage, r.error_message, r.category, r.submitted_by, r.created_at,
       r.status_changed_at, count(*) OVER () AS total
FROM reference_videos r
WHERE (%(status)s::text IS NULL OR r.status = %(status)s)
  AND (%(hosts)s::text[] IS NULL
       OR lower(substring(r.url from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)')) = ANY(%(hosts)s)
       OR lower(substring(r.url from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)')) LIKE %(host_suffix)s)
  AND (%(since)s::timestamptz IS NULL OR r.created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR r.created_at < %(until)s)
  AND (%(text)s::text IS NULL OR strpos(lower(r.url), lower(%(text)s)) > 0
       OR (%(id_prefix)s::text IS NOT NULL AND r.id::text LIKE %(id_prefix)s || '%%'))
ORDER BY r.created_at DESC, r.id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: hosts
-- The hosts rows come from, most rows first (the site filter's choices).
SELECT lower(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)')) AS host, count(*) AS n
FROM reference_videos GROUP BY 1 ORDER BY 2 DESC LIMIT 500;

-- name: assets
SELECT asset_type, storage_path, transcript_text, details, updated_at
FROM reference_assets WHERE reference_video_id = %(id)s ORDER BY asset_type;

-- name: extract
SELECT * FROM reference_extracts WHERE reference_video_id = %(id)s;

-- name: timeline
-- Every audit event of one row, oldest first (rows written in one transaction share created_at:
-- ctid keeps them in insertion order, as audit rows are never updated).
SELECT created_at, event_type, actor, summary, details, correlation_id, message_id,
       details ->> 'attempt' AS attempt
FROM audit_log
WHERE entity_type = 'reference_video' AND entity_id = %(id)s::text
ORDER BY created_at, ctid;
