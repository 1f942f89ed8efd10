-- The Winners Bank (reference videos, their assets and extracted hook packages), imported
-- videos, proven hooks and the hook suggestion review queue.

CREATE TABLE public.reference_videos (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url           text NOT NULL UNIQUE,
    submitted_by  text NOT NULL,
    notes         text,
    category      text,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN (
                      'queued', 'needs_file', 'needs_transcription', 'processing', 'ready', 'failed')),
    error_message text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reference_videos_status_updated_at_idx ON public.reference_videos (status, updated_at);
CREATE INDEX reference_videos_category_idx ON public.reference_videos (category);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.reference_videos
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- One asset per (video, type), so a stage can upsert its output with ON CONFLICT.
CREATE TABLE public.reference_assets (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference_video_id uuid NOT NULL REFERENCES public.reference_videos (id) ON DELETE CASCADE,
    asset_type         text NOT NULL CHECK (asset_type IN ('mp4', 'audio', 'transcript')),
    storage_path       text,
    transcript_text    text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reference_assets_video_type_key UNIQUE (reference_video_id, asset_type)
);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.reference_assets
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.reference_extracts (
    reference_video_id uuid PRIMARY KEY REFERENCES public.reference_videos (id) ON DELETE CASCADE,
    spoken_hook        text NOT NULL,
    on_screen_hook     text,
    visual_hook        text,
    cta                text NOT NULL,
    hook_family        text NOT NULL,
    structure_tags     jsonb,
    quality_score      integer CHECK (quality_score BETWEEN 0 AND 100),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reference_extracts_hook_family_idx ON public.reference_extracts (hook_family);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.reference_extracts
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.imported_videos (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    video_url          text NOT NULL UNIQUE,
    platform           text CHECK (platform IN ('tiktok', 'instagram', 'youtube')),
    title              text,
    creator_handle     text,
    transcript         text,
    status             text NOT NULL DEFAULT 'pending'
                           CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    error_message      text,
    metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
    reference_video_id uuid REFERENCES public.reference_videos (id) ON DELETE SET NULL,
    product_id         uuid REFERENCES public.products (id) ON DELETE SET NULL,
    imported_by        uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imported_videos_status_updated_at_idx ON public.imported_videos (status, updated_at);
CREATE INDEX imported_videos_reference_video_id_idx ON public.imported_videos (reference_video_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.imported_videos
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.proven_hooks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    brand_name      text NOT NULL,
    product_id      uuid REFERENCES public.products (id) ON DELETE SET NULL,

    hook_type       text NOT NULL CHECK (hook_type IN ('spoken', 'visual', 'text')),
    hook_text       text NOT NULL,
    hook_hash       text NOT NULL,
    hook_family     text,

    source_video_id uuid REFERENCES public.videos (id) ON DELETE SET NULL,

    used_count      integer NOT NULL DEFAULT 1 CHECK (used_count >= 0),
    approved_count  integer NOT NULL DEFAULT 0 CHECK (approved_count >= 0),
    posted_count    integer NOT NULL DEFAULT 0 CHECK (posted_count >= 0),
    winner_count    integer NOT NULL DEFAULT 0 CHECK (winner_count >= 0),

    last_used_at    timestamptz,
    approved_by     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),

    UNIQUE (brand_name, hook_type, hook_hash)
);
CREATE INDEX proven_hooks_product_id_idx ON public.proven_hooks (product_id);
CREATE INDEX proven_hooks_hook_family_idx ON public.proven_hooks (hook_family);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.proven_hooks
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- One suggestion per (video, hook type, hook hash): re-running extraction on a posted video
-- inserts with ON CONFLICT DO NOTHING instead of queueing duplicates. That key's index also
-- serves lookups by source_video_id.
CREATE TABLE public.hook_suggestions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source_video_id uuid NOT NULL REFERENCES public.videos (id) ON DELETE CASCADE,
    product_id      uuid REFERENCES public.products (id) ON DELETE SET NULL,
    brand_name      text,

    hook_type       text NOT NULL CHECK (hook_type IN ('spoken', 'visual', 'text')),
    hook_text       text NOT NULL,
    hook_hash       text NOT NULL,

    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reviewed_at     timestamptz,
    reviewed_by     uuid,
    review_note     text,

    created_at      timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT hook_suggestions_video_hook_key UNIQUE (source_video_id, hook_type, hook_hash)
);
CREATE INDEX hook_suggestions_status_created_at_idx ON public.hook_suggestions (status, created_at);
