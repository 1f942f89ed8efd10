-- The updated_at trigger function, user profiles and roles, and the content catalog:
-- products, concepts, videos and script_library (videos and script_library refer to each
-- other, so the videos -> script_library key is added after both exist).

-- Sets updated_at on every UPDATE unless the statement set it itself, so a job (or a test)
-- can still write an explicit time, as apply_skit_budget does.
CREATE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TABLE public.user_profiles (
    user_id      uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    role         text CHECK (role IN ('admin', 'recorder', 'editor', 'uploader')),
    display_name text,
    avatar_url   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_profiles_role_idx ON public.user_profiles (role) WHERE role IS NOT NULL;
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.user_profiles
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.user_roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL UNIQUE REFERENCES auth.users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('admin', 'recorder', 'editor', 'uploader')),
    assigned_by text,
    assigned_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_roles_role_idx ON public.user_roles (role);

CREATE TABLE public.products (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL,
    brand               text,
    description         text,
    benefits            text[],
    ingredients         text,
    category            text,
    category_risk       text,
    tiktok_showcase_url text,
    notes               text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_brand_idx ON public.products (brand);
CREATE INDEX products_category_idx ON public.products (category);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.products
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.concepts (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id          uuid REFERENCES public.products (id) ON DELETE SET NULL,
    angle               text,
    proof_type          text,
    hypothesis          text,
    hook_options        text[],
    visual_hook         text,
    on_screen_text_hook text,
    on_screen_text_mid  text[],
    on_screen_text_cta  text,
    hook_type           text,
    reference_script    text,
    reference_video_url text,
    tone_preset         text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX concepts_product_id_idx ON public.concepts (product_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.concepts
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.videos (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    concept_id             uuid REFERENCES public.concepts (id) ON DELETE SET NULL,
    product_id             uuid REFERENCES public.products (id) ON DELETE SET NULL,
    script_library_id      uuid,

    script_locked_text     text,
    script_locked_version  integer,
    script_locked_json     jsonb,

    recording_status       text NOT NULL DEFAULT 'NOT_RECORDED' CHECK (recording_status IN (
                               'NOT_RECORDED', 'RECORDED', 'EDITED', 'READY_TO_POST', 'POSTED', 'REJECTED')),

    recorded_at            timestamptz,
    edited_at              timestamptz,
    ready_to_post_at       timestamptz,
    posted_at              timestamptz,
    rejected_at            timestamptz,
    last_status_changed_at timestamptz,

    recording_notes        text,
    editor_notes           text,
    uploader_notes         text,

    posted_url             text,
    posted_platform        text CHECK (posted_platform IN ('tiktok', 'instagram', 'youtube')),
    posted_account         text,
    posting_error          text,

    assigned_to            uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    assigned_at            timestamptz,
    assigned_role          text CHECK (assigned_role IN ('recorder', 'editor', 'uploader')),
    assignment_state       text NOT NULL DEFAULT 'AVAILABLE'
                               CHECK (assignment_state IN ('AVAILABLE', 'ASSIGNED', 'RELEASED', 'EXPIRED')),
    assigned_expires_at    timestamptz,

    claimed_by             text,
    claimed_at             timestamptz,
    claim_expires_at       timestamptz,
    claim_role             text,

    work_lane              text,
    work_priority          integer NOT NULL DEFAULT 0,

    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX videos_recording_status_idx ON public.videos (recording_status);
CREATE INDEX videos_assigned_to_idx ON public.videos (assigned_to);
CREATE INDEX videos_work_lane_idx ON public.videos (work_lane);
CREATE INDEX videos_last_status_changed_at_idx ON public.videos (last_status_changed_at);
CREATE INDEX videos_assignment_expiry_idx ON public.videos (assignment_state, assigned_expires_at);
CREATE INDEX videos_concept_id_idx ON public.videos (concept_id);
CREATE INDEX videos_product_id_idx ON public.videos (product_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.videos
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.script_library (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id      uuid REFERENCES public.products (id) ON DELETE SET NULL,
    brand_name      text NOT NULL,
    concept_id      uuid REFERENCES public.concepts (id) ON DELETE SET NULL,
    source_video_id uuid REFERENCES public.videos (id) ON DELETE SET NULL,

    script_text     text NOT NULL,
    script_hash     text NOT NULL,

    hook_spoken     text,
    hook_visual     text,
    hook_text       text,
    hook_family     text,
    tone_preset     text,

    is_winner       boolean NOT NULL DEFAULT false,
    used_count      integer NOT NULL DEFAULT 0 CHECK (used_count >= 0),
    approved_count  integer NOT NULL DEFAULT 0 CHECK (approved_count >= 0),
    posted_count    integer NOT NULL DEFAULT 0 CHECK (posted_count >= 0),

    approved_by     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),

    UNIQUE (brand_name, script_hash)
);
CREATE INDEX script_library_product_id_idx ON public.script_library (product_id);
CREATE INDEX script_library_source_video_id_idx ON public.script_library (source_video_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.script_library
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

ALTER TABLE public.videos
    ADD CONSTRAINT videos_script_library_id_fkey
    FOREIGN KEY (script_library_id) REFERENCES public.script_library (id) ON DELETE SET NULL;
CREATE INDEX videos_script_library_id_idx ON public.videos (script_library_id);

-- Whether a user (by default the caller, from the JWT) is an admin. SECURITY DEFINER so that
-- RLS policies can call it without the user_profiles policies recursing into themselves.
CREATE FUNCTION public.is_admin(p_user_id uuid DEFAULT auth.uid()) RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT coalesce(
        (SELECT p.role = 'admin' FROM public.user_profiles AS p WHERE p.user_id = p_user_id),
        false
    )
$$;
