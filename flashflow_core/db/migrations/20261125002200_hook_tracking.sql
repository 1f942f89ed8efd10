-- What the hook jobs need beyond the FlashFlow schema document:
--   * flashflow_hook_extractions: the posted videos extract_hook_suggestions has read, so the
--     nightly sweep picks only the ones it has not (a video whose hooks are all proven
--     already gets no suggestion, and must not be swept again every night);
--   * flashflow_video_hooks: every hook each posted video carries, normalised and hashed,
--     which rollup_hook_stats joins to proven_hooks to count posts and winners set-based;
--   * script_library.winner_count, recomputed by rollup_hook_stats like proven_hooks';
--   * an index for the legacy claim expiry sweep.

CREATE TABLE public.flashflow_hook_extractions (
    video_id       uuid        PRIMARY KEY REFERENCES public.videos (id) ON DELETE CASCADE,
    hooks_found    integer     NOT NULL,
    suggested      integer     NOT NULL,
    correlation_id text        NOT NULL,
    extracted_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.flashflow_video_hooks (
    video_id   uuid NOT NULL REFERENCES public.videos (id) ON DELETE CASCADE,
    brand_name text NOT NULL,
    hook_type  text NOT NULL CHECK (hook_type IN ('spoken', 'visual', 'text')),
    hook_hash  text NOT NULL,
    PRIMARY KEY (video_id, hook_type, hook_hash)
);
CREATE INDEX flashflow_video_hooks_hook_idx ON public.flashflow_video_hooks (brand_name, hook_type, hook_hash);

ALTER TABLE public.flashflow_hook_extractions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.flashflow_video_hooks ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.flashflow_hook_extractions, public.flashflow_video_hooks FROM anon, authenticated;

ALTER TABLE public.script_library
    ADD COLUMN winner_count integer NOT NULL DEFAULT 0 CHECK (winner_count >= 0);

CREATE INDEX videos_claim_expiry_idx ON public.videos (claim_expires_at) WHERE claim_expires_at IS NOT NULL;
-- Winners are marked by a 'marked_winner' video event (the web app's "mark as winner").
CREATE INDEX video_events_marked_winner_idx ON public.video_events (video_id) WHERE event_type = 'marked_winner';
-- "Does this brand already have this hook suggested?", asked by every extraction.
CREATE INDEX hook_suggestions_brand_hook_idx ON public.hook_suggestions (brand_name, hook_type, hook_hash);
