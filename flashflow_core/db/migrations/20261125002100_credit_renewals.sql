-- Credit renewal bookkeeping: one row per (user, period) granted by renew_credits, so a
-- period is granted once even if a subscription's dates are moved back by hand; and the
-- period arithmetic the renewal uses.

CREATE TABLE public.flashflow_credit_renewals (
    user_id        uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    period_start   timestamptz NOT NULL,
    period_end     timestamptz NOT NULL,
    previous_plan  text        NOT NULL,
    plan_id        text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('renewal', 'downgrade')),
    correlation_id text        NOT NULL,
    renewed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, period_start)
);

ALTER TABLE public.flashflow_credit_renewals ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.flashflow_credit_renewals FROM anon, authenticated;

-- The billing period that contains p_now, counted in whole periods from p_end (the end of
-- the period that ran out). Months are added to p_end, not chained, so Jan 31 steps to
-- Feb 28 and then Mar 31. A subscription overdue by several periods moves to the current
-- one in a single step (and is granted once), not once per missed period.
CREATE FUNCTION public.flashflow_next_period(
    p_end timestamptz, p_billing_period text, p_now timestamptz,
    OUT period_start timestamptz, OUT period_end timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_step interval := CASE p_billing_period WHEN 'yearly' THEN interval '1 year' ELSE interval '1 month' END;
    -- No month is longer than 31 days and no year longer than 366: the estimate never overshoots.
    v_longest double precision := CASE p_billing_period WHEN 'yearly' THEN 366 ELSE 31 END * 86400;
    n integer;
BEGIN
    IF p_end IS NULL OR p_now IS NULL THEN
        RAISE EXCEPTION 'flashflow_next_period: period end and now are required'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n := greatest(0, floor(extract(epoch FROM p_now - p_end) / v_longest)::integer);
    WHILE p_end + v_step * (n + 1) <= p_now LOOP
        n := n + 1;
    END LOOP;
    period_start := p_end + v_step * n;
    period_end := p_end + v_step * (n + 1);
END
$$;
