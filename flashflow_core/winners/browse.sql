-- Reading the Winners Bank for people (the console): a filtered, paged list (one row's story is
-- lookup.sql's, shared with `flashflow show`).
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
  AND (%(ids)s::uuid[] IS NULL OR r.id = ANY(%(ids)s))
  AND (%(text)s::text IS NULL OR strpos(lower(r.url), lower(%(text)s)) > 0)
ORDER BY r.created_at DESC, r.id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: hosts
-- The hosts rows come from, most rows first (the site filter's choices).
SELECT lower(substring(url from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)')) AS host, count(*) AS n
FROM reference_videos GROUP BY 1 ORDER BY 2 DESC LIMIT 500;

-- name: video_key
SELECT storage_path FROM reference_assets WHERE reference_video_id = %(id)s AND asset_type = 'mp4';
