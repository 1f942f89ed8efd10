-- name: video_hook_sources
-- A video with what its hooks come from: the locked script, its concept, its script_library
-- entry, and the brand of its product.
SELECT v.id, v.recording_status, v.product_id, v.script_locked_json, v.script_locked_text,
       c.visual_hook AS concept_visual_hook, c.on_screen_text_hook AS concept_text_hook,
       sl.hook_visual AS library_visual_hook, sl.hook_text AS library_text_hook,
       nullif(btrim(p.brand), '') AS brand_name
FROM public.videos AS v
LEFT JOIN public.concepts AS c ON c.id = v.concept_id
LEFT JOIN public.script_library AS sl ON sl.id = v.script_library_id
LEFT JOIN public.products AS p ON p.id = v.product_id
WHERE v.id = %(video_id)s;

-- name: lock_brand
-- Extractions for one brand take turns, so two videos posted together with the
-- same new hook suggest it once.
SELECT pg_advisory_xact_lock(%(namespace)s::integer, hashtext(%(brand_name)s));

-- name: record_video_hooks
INSERT INTO public.flashflow_video_hooks (video_id, brand_name, hook_type, hook_hash)
SELECT %(video_id)s, %(brand_name)s, h.hook_type, h.hook_hash
FROM unnest(%(types)s::text[], %(hashes)s::text[]) AS h(hook_type, hook_hash)
ON CONFLICT (video_id, hook_type, hook_hash) DO NOTHING;

-- name: insert_suggestions
-- The video's hooks that neither proven_hooks nor hook_suggestions hold for this brand and
-- hook type, whatever their review status.
INSERT INTO public.hook_suggestions (source_video_id, product_id, brand_name, hook_type, hook_text, hook_hash)
SELECT %(video_id)s, %(product_id)s, %(brand_name)s, h.hook_type, h.hook_text, h.hook_hash
FROM unnest(%(types)s::text[], %(texts)s::text[], %(hashes)s::text[]) AS h(hook_type, hook_text, hook_hash)
WHERE NOT EXISTS (
        SELECT 1 FROM public.proven_hooks AS ph
        WHERE ph.brand_name = %(brand_name)s AND ph.hook_type = h.hook_type AND ph.hook_hash = h.hook_hash)
  AND NOT EXISTS (
        SELECT 1 FROM public.hook_suggestions AS hs
        WHERE hs.brand_name = %(brand_name)s AND hs.hook_type = h.hook_type AND hs.hook_hash = h.hook_hash)
ON CONFLICT (source_video_id, hook_type, hook_hash) DO NOTHING
RETURNING id;

-- name: mark_extracted
INSERT INTO public.flashflow_hook_extractions (video_id, hooks_found, suggested, correlation_id)
VALUES (%(video_id)s, %(hooks_found)s, %(suggested)s, %(correlation_id)s)
ON CONFLICT (video_id) DO UPDATE
SET hooks_found = EXCLUDED.hooks_found, suggested = EXCLUDED.suggested,
    correlation_id = EXCLUDED.correlation_id, extracted_at = now();

-- name: unextracted_posted_videos
SELECT v.id
FROM public.videos AS v
WHERE v.recording_status = 'POSTED'
  AND NOT EXISTS (SELECT 1 FROM public.flashflow_hook_extractions AS e WHERE e.video_id = v.id)
ORDER BY v.posted_at NULLS LAST, v.id
LIMIT %(limit)s;

-- name: lock_suggestion
SELECT id, status, brand_name, product_id, hook_type, hook_text, hook_hash, source_video_id
FROM public.hook_suggestions
WHERE id = %(id)s
FOR UPDATE;

-- name: mark_reviewed
UPDATE public.hook_suggestions
SET status = %(status)s, reviewed_at = now(), reviewed_by = %(reviewed_by)s, review_note = %(note)s
WHERE id = %(id)s AND status = 'pending'
RETURNING reviewed_at;

-- name: approve_hook
-- Approval counts once per suggestion (the suggestion left 'pending' in this transaction).
INSERT INTO public.proven_hooks
    (brand_name, product_id, hook_type, hook_text, hook_hash, source_video_id, approved_count, approved_by)
VALUES (%(brand_name)s, %(product_id)s, %(hook_type)s, %(hook_text)s, %(hook_hash)s, %(source_video_id)s,
        1, %(approved_by)s)
ON CONFLICT (brand_name, hook_type, hook_hash) DO UPDATE
SET approved_count = public.proven_hooks.approved_count + 1,
    approved_by = EXCLUDED.approved_by,
    product_id = coalesce(public.proven_hooks.product_id, EXCLUDED.product_id),
    source_video_id = coalesce(public.proven_hooks.source_video_id, EXCLUDED.source_video_id)
RETURNING id, approved_count;

-- name: rollup_proven_hooks
-- posted_count and winner_count of each proven hook from the posted videos that carry it
-- (flashflow_video_hooks); a winner is a video with a 'marked_winner' event. Only rows
-- whose counts change are written.
WITH winners AS (
    SELECT DISTINCT e.video_id FROM public.video_events AS e WHERE e.event_type = 'marked_winner'
), stats AS (
    SELECT vh.brand_name, vh.hook_type, vh.hook_hash,
           count(*) AS posted, count(w.video_id) AS won
    FROM public.flashflow_video_hooks AS vh
    JOIN public.videos AS v ON v.id = vh.video_id AND v.recording_status = 'POSTED'
    LEFT JOIN winners AS w ON w.video_id = vh.video_id
    GROUP BY vh.brand_name, vh.hook_type, vh.hook_hash
), target AS (
    SELECT ph.id, coalesce(s.posted, 0) AS posted, coalesce(s.won, 0) AS won
    FROM public.proven_hooks AS ph
    LEFT JOIN stats AS s
      ON s.brand_name = ph.brand_name AND s.hook_type = ph.hook_type AND s.hook_hash = ph.hook_hash
)
UPDATE public.proven_hooks AS ph
SET posted_count = t.posted, winner_count = t.won
FROM target AS t
WHERE ph.id = t.id AND (ph.posted_count, ph.winner_count) IS DISTINCT FROM (t.posted, t.won);

-- name: rollup_script_library
WITH winners AS (
    SELECT DISTINCT e.video_id FROM public.video_events AS e WHERE e.event_type = 'marked_winner'
), stats AS (
    SELECT v.script_library_id AS id, count(*) AS posted, count(w.video_id) AS won
    FROM public.videos AS v
    LEFT JOIN winners AS w ON w.video_id = v.id
    WHERE v.recording_status = 'POSTED' AND v.script_library_id IS NOT NULL
    GROUP BY v.script_library_id
), target AS (
    SELECT sl.id, coalesce(s.posted, 0) AS posted, coalesce(s.won, 0) AS won
    FROM public.script_library AS sl
    LEFT JOIN stats AS s ON s.id = sl.id
)
UPDATE public.script_library AS sl
SET posted_count = t.posted, winner_count = t.won
FROM target AS t
WHERE sl.id = t.id AND (sl.posted_count, sl.winner_count) IS DISTINCT FROM (t.posted, t.won);
