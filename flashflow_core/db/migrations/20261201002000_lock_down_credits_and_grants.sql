-- Credits, plans and periods are written by the server and the SQL functions only, and the
-- API roles lose the table privileges Row Level Security cannot guard.
--
-- A deliberate reading of the schema document's "users view/modify their own" user_credits and
-- user_subscriptions: through the API a user could raise their balance, give themselves the
-- `team` plan, or move their period end back so the renewal job granted a new month of credits.
-- Now `authenticated` reads its own user_credits, user_subscriptions, credit_transactions and
-- skit_budget rows and writes none of them; balances change through deduct_credit (a user's own
-- spending, callable by `authenticated`), add_credits, reset_monthly_credits and
-- apply_skit_budget (server only); plans and periods are set by the server (service_role, the
-- workers' connection, Stripe webhooks through the web app's admin client).
--
-- TRUNCATE is not subject to RLS, TRIGGER let a caller hang a function of theirs on a table so
-- that it ran as whoever wrote next (the workers' role: a superuser on plain Postgres), and
-- REFERENCES lets a foreign key probe for values: all three are revoked from anon and
-- authenticated on every table, and by default on tables later migrations create.

DROP POLICY user_credits_insert_own ON public.user_credits;
DROP POLICY user_credits_update_own ON public.user_credits;
DROP POLICY user_subscriptions_insert_own ON public.user_subscriptions;
DROP POLICY user_subscriptions_update_own ON public.user_subscriptions;

REVOKE INSERT, UPDATE, DELETE ON
    public.user_credits, public.user_subscriptions, public.credit_transactions, public.skit_budget
FROM anon, authenticated;
REVOKE INSERT, UPDATE, DELETE ON public.subscription_plans FROM anon;

REVOKE TRUNCATE, TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA public FROM PUBLIC, anon, authenticated;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE TRUNCATE, TRIGGER, REFERENCES ON TABLES FROM anon, authenticated;

-- Postgres 17 adds MAINTAIN (VACUUM, REINDEX, LOCK TABLE ...): not for the API roles either.
DO $maintain$
BEGIN
    IF current_setting('server_version_num')::int >= 170000 THEN
        EXECUTE 'REVOKE MAINTAIN ON ALL TABLES IN SCHEMA public FROM PUBLIC, anon, authenticated';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE MAINTAIN ON TABLES FROM anon, authenticated';
    END IF;
END
$maintain$;

-- Below, `current_setting('role', true) IN ('anon', 'authenticated')` says the caller came in
-- through the API (PostgREST sets one of those roles; SECURITY DEFINER does not change the
-- setting); the server (service_role, the table owner) is anyone else.

-- A non-admin caller learns whether they themselves are an admin or team member, never whether
-- someone else is (user_roles rows are private). The default argument, the caller, is what the
-- policies pass.
CREATE OR REPLACE FUNCTION public.is_admin(p_user_id uuid DEFAULT auth.uid()) RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT CASE
        WHEN current_setting('role', true) IN ('anon', 'authenticated')
             AND p_user_id IS DISTINCT FROM auth.uid()
             AND NOT EXISTS (SELECT 1 FROM public.user_profiles AS me
                             WHERE me.user_id = auth.uid() AND me.role = 'admin')
        THEN false
        ELSE coalesce((SELECT p.role = 'admin' FROM public.user_profiles AS p WHERE p.user_id = p_user_id), false)
    END
$$;

CREATE OR REPLACE FUNCTION public.is_team_member(p_user_id uuid DEFAULT auth.uid()) RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT CASE
        WHEN current_setting('role', true) IN ('anon', 'authenticated')
             AND p_user_id IS DISTINCT FROM auth.uid()
             AND NOT EXISTS (SELECT 1 FROM public.user_profiles AS me
                             WHERE me.user_id = auth.uid() AND me.role = 'admin')
        THEN false
        ELSE EXISTS (SELECT 1 FROM public.user_profiles AS p WHERE p.user_id = p_user_id AND p.role IS NOT NULL)
          OR EXISTS (SELECT 1 FROM public.user_roles AS r WHERE r.user_id = p_user_id)
    END
$$;

-- Policies call them as `authenticated`; anon has no policy that does.
REVOKE EXECUTE ON FUNCTION public.is_admin(uuid), public.is_team_member(uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.is_admin(uuid), public.is_team_member(uuid) TO authenticated, service_role;

-- deduct_credit: a signed-in user spends their own credits; an admin may charge anyone, and so
-- may the server. The body after the caller check is the original one.
CREATE OR REPLACE FUNCTION public.deduct_credit(p_user_id uuid, p_description text, p_skit_id uuid DEFAULT NULL)
RETURNS TABLE (success boolean, credits_remaining integer, admin_bypass boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
#variable_conflict use_column
DECLARE
    v_balance integer;
    v_on_free boolean;
    v_caller  uuid := auth.uid();
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'deduct_credit: user_id is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF current_setting('role', true) IN ('anon', 'authenticated') THEN
        IF v_caller IS NULL THEN
            RAISE EXCEPTION 'deduct_credit: only a signed-in user may spend credits'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF v_caller <> p_user_id AND NOT public.is_admin(v_caller) THEN
            RAISE EXCEPTION 'deduct_credit: a user may spend only their own credits'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;

    IF public.is_admin(p_user_id) THEN
        SELECT c.credits_remaining INTO v_balance FROM public.user_credits AS c WHERE c.user_id = p_user_id;
        INSERT INTO public.credit_transactions (user_id, type, amount, balance_after, description, skit_id, metadata)
        VALUES (p_user_id, 'generation', 0, coalesce(v_balance, 0), p_description, p_skit_id,
                jsonb_build_object('admin_bypass', true));
        RETURN QUERY SELECT true, coalesce(v_balance, 0), true;
        RETURN;
    END IF;

    INSERT INTO public.user_credits (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;

    v_on_free := NOT EXISTS (
        SELECT 1 FROM public.user_subscriptions AS s
        WHERE s.user_id = p_user_id AND s.plan_id <> 'free' AND s.status IN ('active', 'trialing')
    );

    UPDATE public.user_credits AS c
    SET credits_remaining = c.credits_remaining - 1,
        credits_used_this_period = c.credits_used_this_period + 1,
        lifetime_credits_used = c.lifetime_credits_used + 1,
        free_credits_used = c.free_credits_used
            + CASE WHEN v_on_free AND c.free_credits_used < c.free_credits_total THEN 1 ELSE 0 END
    WHERE c.user_id = p_user_id AND c.credits_remaining > 0
    RETURNING c.credits_remaining INTO v_balance;

    IF NOT FOUND THEN
        SELECT c.credits_remaining INTO v_balance FROM public.user_credits AS c WHERE c.user_id = p_user_id;
        RETURN QUERY SELECT false, v_balance, false;
        RETURN;
    END IF;

    INSERT INTO public.credit_transactions (user_id, type, amount, balance_after, description, skit_id)
    VALUES (p_user_id, 'generation', -1, v_balance, p_description, p_skit_id);
    RETURN QUERY SELECT true, v_balance, false;
END
$$;

REVOKE EXECUTE ON FUNCTION public.deduct_credit(uuid, text, uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.deduct_credit(uuid, text, uuid) TO authenticated, service_role;
