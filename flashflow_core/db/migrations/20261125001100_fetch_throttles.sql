-- How many times in a row a site throttled this row's fetch (429, "not a bot", IP blocked).
-- Throttling costs the video none of its attempts, but it must not go on forever: past
-- FLASHFLOW_FETCH_MAX_THROTTLES the row fails with a message saying so.
ALTER TABLE public.reference_videos
    ADD COLUMN IF NOT EXISTS throttle_count integer NOT NULL DEFAULT 0;
