-- Table privileges as Supabase grants them, Row Level Security on every table, and the
-- policies that decide what `anon` and `authenticated` callers see. `service_role` has
-- BYPASSRLS, and the table owner (the workers' own connection) is not subject to RLS.

-- Whether a user (by default the caller) works in the video pipeline: an admin, recorder,
-- editor or uploader by user_profiles or user_roles.
CREATE FUNCTION public.is_team_member(p_user_id uuid DEFAULT auth.uid()) RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT EXISTS (SELECT 1 FROM public.user_profiles AS p WHERE p.user_id = p_user_id AND p.role IS NOT NULL)
        OR EXISTS (SELECT 1 FROM public.user_roles AS r WHERE r.user_id = p_user_id)
$$;

GRANT ALL ON ALL TABLES IN SCHEMA public TO anon, authenticated, service_role;
-- Tables of later migrations: only service_role by default; a migration that wants the API
-- roles to reach its table grants them itself, after enabling RLS.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO service_role;

-- A user may edit their own profile but never their role (that would make anyone an admin).
REVOKE INSERT, UPDATE ON public.user_profiles FROM anon, authenticated;
GRANT INSERT (user_id, display_name, avatar_url), UPDATE (display_name, avatar_url)
    ON public.user_profiles TO authenticated;

-- Credit and budget functions act on any user id they are given: only the server may call them.
REVOKE EXECUTE ON FUNCTION
    public.deduct_credit(uuid, text, uuid),
    public.add_credits(uuid, integer, text, text),
    public.reset_monthly_credits(uuid, text),
    public.apply_skit_budget(uuid, uuid, numeric)
FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION
    public.deduct_credit(uuid, text, uuid),
    public.add_credits(uuid, integer, text, text),
    public.reset_monthly_credits(uuid, text),
    public.apply_skit_budget(uuid, uuid, numeric)
TO service_role;

ALTER TABLE public.user_profiles       ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_roles          ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.products            ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.concepts            ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.videos              ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.script_library      ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.saved_skits         ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.skit_ratings        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.skit_budget         ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audience_personas   ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.pain_points         ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.language_patterns   ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.reference_videos    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.reference_assets    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.reference_extracts  ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.imported_videos     ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.proven_hooks        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.hook_suggestions    ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.subscription_plans  ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_subscriptions  ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.user_credits        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.credit_transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.video_events        ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.notifications       ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.audit_log           ENABLE ROW LEVEL SECURITY;

-- Own rows only. `(SELECT auth.uid())` is evaluated once per statement, not once per row.
CREATE POLICY saved_skits_own ON public.saved_skits FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY skit_ratings_own ON public.skit_ratings FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY notifications_own ON public.notifications FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

CREATE POLICY user_credits_select_own ON public.user_credits FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
CREATE POLICY user_credits_insert_own ON public.user_credits FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY user_credits_update_own ON public.user_credits FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

CREATE POLICY user_subscriptions_select_own ON public.user_subscriptions FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
CREATE POLICY user_subscriptions_insert_own ON public.user_subscriptions FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY user_subscriptions_update_own ON public.user_subscriptions FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));

CREATE POLICY credit_transactions_select_own ON public.credit_transactions FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
CREATE POLICY skit_budget_select_own ON public.skit_budget FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));

-- Plans: anyone reads the active ones; admins manage them.
CREATE POLICY subscription_plans_select_active ON public.subscription_plans FOR SELECT TO anon, authenticated
    USING (is_active);
CREATE POLICY subscription_plans_admin ON public.subscription_plans FOR ALL TO authenticated
    USING (public.is_admin()) WITH CHECK (public.is_admin());

-- Profiles: every signed-in user sees names and roles; each edits their own (column grants
-- above keep `role` out of reach). Roles: each sees their own; admins see and manage all.
CREATE POLICY user_profiles_select ON public.user_profiles FOR SELECT TO authenticated
    USING (true);
CREATE POLICY user_profiles_insert_own ON public.user_profiles FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY user_profiles_update_own ON public.user_profiles FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY user_roles_select_own ON public.user_roles FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
CREATE POLICY user_roles_admin ON public.user_roles FOR ALL TO authenticated
    USING (public.is_admin()) WITH CHECK (public.is_admin());

-- Shared audience library: any signed-in user manages it.
CREATE POLICY audience_personas_authenticated ON public.audience_personas FOR ALL TO authenticated
    USING (true) WITH CHECK (true);
CREATE POLICY pain_points_authenticated ON public.pain_points FOR ALL TO authenticated
    USING (true) WITH CHECK (true);

-- Catalog, pipeline and Winners Bank tables: signed-in users read; admins write.
DO $policies$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'products', 'concepts', 'videos', 'script_library', 'video_events', 'language_patterns',
        'reference_videos', 'reference_assets', 'reference_extracts', 'imported_videos',
        'proven_hooks', 'hook_suggestions'
    ] LOOP
        EXECUTE format(
            'CREATE POLICY %I ON public.%I FOR SELECT TO authenticated USING (true)', t || '_select', t);
        EXECUTE format(
            'CREATE POLICY %I ON public.%I FOR ALL TO authenticated '
            'USING (public.is_admin()) WITH CHECK (public.is_admin())', t || '_admin', t);
    END LOOP;
END
$policies$;

-- Team members claim and move videos through the pipeline and log what they did.
CREATE POLICY videos_team_update ON public.videos FOR UPDATE TO authenticated
    USING (public.is_team_member()) WITH CHECK (public.is_team_member());
CREATE POLICY video_events_team_insert ON public.video_events FOR INSERT TO authenticated
    WITH CHECK (public.is_team_member());

-- The system audit log is for admins only.
CREATE POLICY audit_log_admin_select ON public.audit_log FOR SELECT TO authenticated
    USING (public.is_admin());
