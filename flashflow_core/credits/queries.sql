-- name: advance_due_subscriptions
-- One bounded batch of due subscriptions, locked with SKIP LOCKED: active and trialing ones
-- move to the billing period that contains now; canceled paid ones drop to the free plan.
-- Each (user, new period) is entered in flashflow_credit_renewals; `granted` is false when
-- that period was granted already, and then its credits are not reset again.
WITH due AS (
    SELECT s.id, s.user_id, s.plan_id, s.status, s.billing_period, s.current_period_end
    FROM public.user_subscriptions AS s
    WHERE s.current_period_end <= now()
      AND (s.status IN ('active', 'trialing') OR (s.status = 'canceled' AND s.plan_id <> 'free'))
    ORDER BY s.current_period_end
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE public.user_subscriptions AS s
    SET current_period_start = p.period_start,
        current_period_end = p.period_end,
        plan_id = CASE WHEN due.status = 'canceled' THEN 'free' ELSE s.plan_id END,
        status = CASE WHEN due.status = 'canceled' THEN 'active' ELSE s.status END,
        billing_period = CASE WHEN due.status = 'canceled' THEN 'monthly' ELSE s.billing_period END
    FROM due
    CROSS JOIN LATERAL public.flashflow_next_period(
        due.current_period_end,
        CASE WHEN due.status = 'canceled' THEN 'monthly' ELSE due.billing_period END,
        now()) AS p
    WHERE s.id = due.id
    RETURNING s.user_id, due.plan_id AS previous_plan, s.plan_id, p.period_start, p.period_end,
              CASE WHEN due.status = 'canceled' THEN 'downgrade' ELSE 'renewal' END AS kind
), granted AS (
    INSERT INTO public.flashflow_credit_renewals
        (user_id, period_start, period_end, previous_plan, plan_id, kind, correlation_id)
    SELECT m.user_id, m.period_start, m.period_end, m.previous_plan, m.plan_id, m.kind, %(correlation_id)s
    FROM moved AS m
    ON CONFLICT (user_id, period_start) DO NOTHING
    RETURNING user_id
)
SELECT m.user_id, m.kind, m.plan_id, (g.user_id IS NOT NULL) AS granted
FROM moved AS m
LEFT JOIN granted AS g ON g.user_id = m.user_id;

-- name: reset_credits
-- After advance_due_subscriptions in the same transaction (reset_monthly_credits reads the
-- subscription's new plan and period, so it must run as a later statement).
SELECT public.reset_monthly_credits(r.user_id, r.type) AS balance
FROM unnest(%(user_ids)s::uuid[], %(types)s::text[]) AS r(user_id, type);
