-- Subscription plans (seeded), user subscriptions, credit balances and their audit log, and
-- the functions that move credits. Every balance change takes the user_credits row lock and
-- writes its credit_transactions row in the same transaction, so balance_after is gapless.

CREATE TABLE public.subscription_plans (
    id                      text PRIMARY KEY,
    name                    text NOT NULL,
    description             text,
    price_monthly           integer NOT NULL DEFAULT 0 CHECK (price_monthly >= 0),
    price_yearly            integer NOT NULL DEFAULT 0 CHECK (price_yearly >= 0),
    credits_per_month       integer NOT NULL DEFAULT 0 CHECK (credits_per_month >= 0),
    max_products            integer NOT NULL DEFAULT 10 CHECK (max_products >= -1),
    max_team_members        integer NOT NULL DEFAULT 1 CHECK (max_team_members >= -1),
    max_saved_skits         integer NOT NULL DEFAULT 3 CHECK (max_saved_skits >= -1),
    features                jsonb NOT NULL DEFAULT '[]'::jsonb,
    stripe_price_id_monthly text,
    stripe_price_id_yearly  text,
    is_active               boolean NOT NULL DEFAULT true,
    sort_order              integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.subscription_plans
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- Prices in cents; -1 means unlimited.
INSERT INTO public.subscription_plans
    (id, name, description, price_monthly, price_yearly, credits_per_month,
     max_products, max_team_members, max_saved_skits, features, sort_order)
VALUES
    ('free', 'Free', 'Try FlashFlow with a handful of skits.', 0, 0, 5,
     3, 1, 3, '["5 skit generations a month", "3 products", "3 saved skits"]', 0),
    ('starter', 'Starter', 'For solo creators posting every week.', 900, 9000, 75,
     10, 1, 25, '["75 skit generations a month", "10 products", "25 saved skits"]', 1),
    ('pro', 'Pro', 'For creators and brands posting daily.', 2900, 29000, 300,
     -1, 1, -1, '["300 skit generations a month", "Unlimited products", "Unlimited saved skits", "Winners Bank"]', 2),
    ('team', 'Team', 'For agencies and production teams.', 9900, 99000, 1000,
     -1, 10, -1, '["1000 skit generations a month", "Up to 10 team members", "Video pipeline and workbenches", "Winners Bank"]', 3)
ON CONFLICT (id) DO NOTHING;

CREATE TABLE public.user_subscriptions (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                uuid NOT NULL UNIQUE REFERENCES auth.users (id) ON DELETE CASCADE,
    plan_id                text NOT NULL DEFAULT 'free'
                               REFERENCES public.subscription_plans (id) ON UPDATE CASCADE,
    status                 text NOT NULL DEFAULT 'active'
                               CHECK (status IN ('active', 'canceled', 'past_due', 'trialing', 'paused')),
    billing_period         text CHECK (billing_period IN ('monthly', 'yearly')),

    stripe_customer_id     text,
    stripe_subscription_id text UNIQUE,

    current_period_start   timestamptz,
    current_period_end     timestamptz,
    canceled_at            timestamptz,
    trial_end              timestamptz,

    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_subscriptions_status_period_end_idx
    ON public.user_subscriptions (status, current_period_end);
CREATE INDEX user_subscriptions_plan_id_idx ON public.user_subscriptions (plan_id);
CREATE INDEX user_subscriptions_stripe_customer_id_idx ON public.user_subscriptions (stripe_customer_id);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.user_subscriptions
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.user_credits (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                  uuid NOT NULL UNIQUE REFERENCES auth.users (id) ON DELETE CASCADE,
    credits_remaining        integer NOT NULL DEFAULT 5 CHECK (credits_remaining >= 0),
    credits_used_this_period integer NOT NULL DEFAULT 0 CHECK (credits_used_this_period >= 0),
    lifetime_credits_used    integer NOT NULL DEFAULT 0 CHECK (lifetime_credits_used >= 0),
    free_credits_total       integer NOT NULL DEFAULT 5 CHECK (free_credits_total >= 0),
    free_credits_used        integer NOT NULL DEFAULT 0 CHECK (free_credits_used >= 0),
    period_start             timestamptz DEFAULT now(),
    period_end               timestamptz DEFAULT now() + interval '1 month',
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_credits_period_end_idx ON public.user_credits (period_end);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.user_credits
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE public.credit_transactions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    type          text NOT NULL CHECK (type IN (
                      'generation', 'refund', 'purchase', 'bonus', 'reset', 'subscription_renewal')),
    amount        integer NOT NULL,
    balance_after integer NOT NULL,
    description   text,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    skit_id       uuid REFERENCES public.saved_skits (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_transactions_user_id_created_at_idx
    ON public.credit_transactions (user_id, created_at DESC);
CREATE INDEX credit_transactions_skit_id_idx ON public.credit_transactions (skit_id);

-- Charges one credit. Admins (user_profiles.role = 'admin') are never refused nor charged,
-- but the call is still recorded, with amount 0 and metadata.admin_bypass = true.
-- The guarded UPDATE is the whole check: concurrent callers queue on the row lock and each
-- re-checks credits_remaining > 0 against the balance the previous one committed.
CREATE FUNCTION public.deduct_credit(p_user_id uuid, p_description text, p_skit_id uuid DEFAULT NULL)
RETURNS TABLE (success boolean, credits_remaining integer, admin_bypass boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
#variable_conflict use_column
DECLARE
    v_balance integer;
    v_on_free boolean;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'deduct_credit: user_id is required' USING ERRCODE = 'invalid_parameter_value';
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

-- Adds credits (purchase, bonus, refund, ...) and returns the new balance. A user without a
-- user_credits row gets one first, with the free starting balance.
CREATE FUNCTION public.add_credits(p_user_id uuid, p_amount integer, p_type text, p_description text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_balance integer;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'add_credits: user_id is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_amount IS NULL OR p_amount <= 0 THEN
        RAISE EXCEPTION 'add_credits: amount must be a positive number of credits, got %', p_amount
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_type IS NULL OR p_type NOT IN ('refund', 'purchase', 'bonus', 'reset', 'subscription_renewal') THEN
        RAISE EXCEPTION 'add_credits: type must be one of refund, purchase, bonus, reset, subscription_renewal; got %',
            p_type USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO public.user_credits (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;

    UPDATE public.user_credits AS c
    SET credits_remaining = c.credits_remaining + p_amount
    WHERE c.user_id = p_user_id
    RETURNING c.credits_remaining INTO v_balance;

    INSERT INTO public.credit_transactions (user_id, type, amount, balance_after, description)
    VALUES (p_user_id, p_type, p_amount, v_balance, p_description);
    RETURN v_balance;
END
$$;

-- Sets the balance to the plan's credits_per_month for a new period and returns it. The plan
-- is the user's active or trialing subscription's, else 'free'. The period is the
-- subscription's current one when it covers now, else one month from now. A renewal job
-- passes p_type => 'subscription_renewal'.
CREATE FUNCTION public.reset_monthly_credits(p_user_id uuid, p_type text DEFAULT 'reset')
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_plan     text;
    v_credits  integer;
    v_start    timestamptz;
    v_end      timestamptz;
    v_previous integer;
BEGIN
    IF p_user_id IS NULL THEN
        RAISE EXCEPTION 'reset_monthly_credits: user_id is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_type IS NULL OR p_type NOT IN ('reset', 'subscription_renewal') THEN
        RAISE EXCEPTION 'reset_monthly_credits: type must be reset or subscription_renewal, got %', p_type
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT p.id, p.credits_per_month, s.current_period_start, s.current_period_end
    INTO v_plan, v_credits, v_start, v_end
    FROM public.user_subscriptions AS s
    JOIN public.subscription_plans AS p ON p.id = s.plan_id
    WHERE s.user_id = p_user_id AND s.status IN ('active', 'trialing');
    IF NOT FOUND THEN
        SELECT p.id, p.credits_per_month INTO v_plan, v_credits
        FROM public.subscription_plans AS p WHERE p.id = 'free';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'reset_monthly_credits: subscription_plans has no ''free'' plan';
        END IF;
    END IF;
    IF v_start IS NULL OR v_end IS NULL OR v_start > now() OR v_end <= now() THEN
        v_start := now();
        v_end := now() + interval '1 month';
    END IF;

    INSERT INTO public.user_credits (user_id) VALUES (p_user_id) ON CONFLICT (user_id) DO NOTHING;
    SELECT c.credits_remaining INTO v_previous
    FROM public.user_credits AS c WHERE c.user_id = p_user_id FOR UPDATE;

    UPDATE public.user_credits AS c
    SET credits_remaining = v_credits,
        credits_used_this_period = 0,
        period_start = v_start,
        period_end = v_end
    WHERE c.user_id = p_user_id;

    INSERT INTO public.credit_transactions (user_id, type, amount, balance_after, description, metadata)
    VALUES (p_user_id, p_type, v_credits - v_previous, v_credits,
            format('monthly credits of plan %s', v_plan),
            jsonb_build_object('plan_id', v_plan, 'previous_balance', v_previous,
                               'period_start', v_start, 'period_end', v_end));
    RETURN v_credits;
END
$$;
