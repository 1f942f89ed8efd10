-- Columns the Winners Bank workers need beyond the FlashFlow schema document.
-- Documented in docs/schema.md ("Worker columns").

ALTER TABLE public.reference_videos
    ADD COLUMN IF NOT EXISTS correlation_id     text,
    ADD COLUMN IF NOT EXISTS failed_stage       text CHECK (failed_stage IN ('fetch', 'transcribe', 'extract')),
    ADD COLUMN IF NOT EXISTS status_changed_at  timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN IF NOT EXISTS stage_attempts     integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS crash_count        integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS resend_count       integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS lease_until        timestamptz,
    ADD COLUMN IF NOT EXISTS lease_message_id   text,
    ADD COLUMN IF NOT EXISTS last_error         text,
    ADD COLUMN IF NOT EXISTS source_meta        jsonb NOT NULL DEFAULT '{}'::jsonb;

-- "Which rows are in flight, and since when": the status and rescue queries.
CREATE INDEX IF NOT EXISTS reference_videos_in_flight_idx
    ON public.reference_videos (status, status_changed_at)
    WHERE status NOT IN ('ready', 'failed');

-- Segment timestamps of a transcript, kept beside its text.
ALTER TABLE public.reference_assets
    ADD COLUMN IF NOT EXISTS details jsonb NOT NULL DEFAULT '{}'::jsonb;
