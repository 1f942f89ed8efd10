-- The skit system (saved skits, ratings, the generation token bucket) and audience
-- intelligence (personas, pain points, language patterns).

CREATE TABLE public.saved_skits (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title             text NOT NULL,
    skit_data         jsonb NOT NULL,
    generation_config jsonb,

    product_id        uuid REFERENCES public.products (id) ON DELETE SET NULL,
    product_name      text,
    product_brand     text,

    status            text NOT NULL DEFAULT 'draft'
                          CHECK (status IN ('draft', 'approved', 'produced', 'posted', 'archived')),

    user_id           uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    org_id            uuid,

    user_rating       integer CHECK (user_rating BETWEEN 1 AND 5),
    ai_score          jsonb,

    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saved_skits_user_id_created_at_idx ON public.saved_skits (user_id, created_at DESC);
CREATE INDEX saved_skits_status_idx ON public.saved_skits (status);
CREATE INDEX saved_skits_product_id_idx ON public.saved_skits (product_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.saved_skits
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.skit_ratings (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    skit_data         jsonb NOT NULL,
    rating            integer NOT NULL CHECK (rating BETWEEN 1 AND 5),
    feedback          text,

    user_id           uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    org_id            uuid,

    generation_config jsonb,
    product_id        uuid REFERENCES public.products (id) ON DELETE SET NULL,
    product_name      text,
    product_brand     text,

    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX skit_ratings_user_id_idx ON public.skit_ratings (user_id);
CREATE INDEX skit_ratings_product_id_idx ON public.skit_ratings (product_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.skit_ratings
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.skit_budget (
    org_id     uuid NOT NULL,
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    points     numeric NOT NULL DEFAULT 300 CHECK (points >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX skit_budget_user_id_idx ON public.skit_budget (user_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.skit_budget
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- Token bucket: capacity 300 points, refilled at 1 point per second of wall-clock time since
-- updated_at. The bucket row is created full on first use and locked while it is read and
-- charged, so concurrent calls for one (org, user) are serialised and never overdraw it.
CREATE FUNCTION public.apply_skit_budget(p_org_id uuid, p_user_id uuid, p_cost numeric)
RETURNS TABLE (allowed boolean, remaining numeric, retry_after_s numeric)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    capacity     CONSTANT numeric := 300;
    refill_per_s CONSTANT numeric := 1;
    v_points     numeric;
    v_updated    timestamptz;
    v_now        timestamptz;
    v_available  numeric;
BEGIN
    IF p_org_id IS NULL OR p_user_id IS NULL THEN
        RAISE EXCEPTION 'apply_skit_budget: org_id and user_id are required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_cost IS NULL OR p_cost < 0 THEN
        RAISE EXCEPTION 'apply_skit_budget: cost must be a number >= 0, got %', p_cost
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO public.skit_budget (org_id, user_id, points)
    VALUES (p_org_id, p_user_id, capacity)
    ON CONFLICT (org_id, user_id) DO NOTHING;

    SELECT b.points, b.updated_at INTO v_points, v_updated
    FROM public.skit_budget AS b
    WHERE b.org_id = p_org_id AND b.user_id = p_user_id
    FOR UPDATE;

    -- clock_timestamp, not now(): a transaction that waited for the lock must not refill
    -- from a start time earlier than the previous holder's write.
    v_now := greatest(clock_timestamp(), v_updated);
    v_available := least(capacity, v_points + extract(epoch FROM v_now - v_updated) * refill_per_s);

    IF v_available < p_cost THEN
        RETURN QUERY SELECT
            false,
            v_available,
            CASE WHEN p_cost > capacity THEN NULL ELSE (p_cost - v_available) / refill_per_s END;
        RETURN;
    END IF;

    UPDATE public.skit_budget AS b
    SET points = v_available - p_cost, updated_at = v_now
    WHERE b.org_id = p_org_id AND b.user_id = p_user_id;

    RETURN QUERY SELECT true, v_available - p_cost, 0::numeric;
END
$$;

CREATE TABLE public.audience_personas (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                     text NOT NULL,
    description              text,

    age_range                text,
    gender                   text,
    lifestyle                text,

    pain_points              jsonb NOT NULL DEFAULT '[]'::jsonb,

    phrases_they_use         text[],
    phrases_to_avoid         text[],
    tone                     text,
    humor_style              text,

    common_objections        text[],
    beliefs                  jsonb,

    content_they_engage_with text[],
    platforms                text[],

    product_categories       text[],
    product_ids              uuid[],

    times_used               integer NOT NULL DEFAULT 0 CHECK (times_used >= 0),

    created_by               uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audience_personas_created_by_idx ON public.audience_personas (created_by);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.audience_personas
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.pain_points (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pain_point              text NOT NULL,
    category                text,

    when_it_happens         text,
    emotional_state         text,
    intensity               text CHECK (intensity IN ('low', 'medium', 'high', 'extreme')),

    how_they_describe_it    text[],
    related_searches        text[],

    what_they_want          text,
    objections_to_solutions text[],

    product_ids             uuid[],

    times_used              integer NOT NULL DEFAULT 0 CHECK (times_used >= 0),

    created_by              uuid REFERENCES auth.users (id) ON DELETE SET NULL,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pain_points_category_idx ON public.pain_points (category);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.pain_points
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.language_patterns (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pattern_type    text NOT NULL,
    pattern_text    text NOT NULL,

    persona_id      uuid REFERENCES public.audience_personas (id) ON DELETE SET NULL,
    category        text,

    times_used      integer NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    success_rate    numeric(5, 2) CHECK (success_rate BETWEEN 0 AND 100),
    source          text,
    source_video_id uuid,

    is_recommended  boolean NOT NULL DEFAULT true,
    is_avoid        boolean NOT NULL DEFAULT false,

    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX language_patterns_persona_id_idx ON public.language_patterns (persona_id);
CREATE INDEX language_patterns_pattern_type_idx ON public.language_patterns (pattern_type);
