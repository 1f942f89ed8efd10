-- name: expire_assignments_batch
-- One bounded batch: lock due rows (skipping rows another transaction holds, such as a
-- re-assignment in flight; FOR UPDATE re-checks the condition on rows changed meanwhile),
-- clear the assignment, and log and notify, all in one statement.
WITH due AS (
    SELECT v.id, v.assigned_to, v.assigned_role, v.assigned_at, v.assigned_expires_at
    FROM public.videos AS v
    WHERE v.assignment_state = 'ASSIGNED' AND v.assigned_expires_at <= now()
    ORDER BY v.assigned_expires_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), expired AS (
    UPDATE public.videos AS v
    SET assignment_state = 'AVAILABLE', assigned_to = NULL, assigned_at = NULL,
        assigned_role = NULL, assigned_expires_at = NULL
    FROM due
    WHERE v.id = due.id
    RETURNING v.id, due.assigned_to, due.assigned_role, due.assigned_at, due.assigned_expires_at
), logged AS (
    INSERT INTO public.video_events (video_id, event_type, actor, payload)
    SELECT e.id, 'assignment_expired', 'system',
           jsonb_build_object('kind', 'assignment', 'previous_assignee', e.assigned_to,
                              'previous_role', e.assigned_role, 'assigned_at', e.assigned_at,
                              'expired_at', e.assigned_expires_at, 'correlation_id', %(correlation_id)s::text)
    FROM expired AS e
), notified AS (
    INSERT INTO public.notifications (user_id, type, video_id, payload)
    SELECT e.assigned_to, 'assignment_expired', e.id,
           jsonb_build_object('kind', 'assignment', 'role', e.assigned_role,
                              'expired_at', e.assigned_expires_at, 'correlation_id', %(correlation_id)s::text)
    FROM expired AS e
    WHERE e.assigned_to IS NOT NULL
    RETURNING 1
)
SELECT (SELECT count(*) FROM expired) AS expired, (SELECT count(*) FROM notified) AS notified;

-- name: expire_claims_batch
-- The legacy claim columns, cleared the same way. claimed_by is free text: the claimant is
-- notified when it holds the id of an existing user.
WITH due AS (
    SELECT v.id, v.claimed_by, v.claim_role, v.claimed_at, v.claim_expires_at
    FROM public.videos AS v
    WHERE v.claim_expires_at <= now()
    ORDER BY v.claim_expires_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
), expired AS (
    UPDATE public.videos AS v
    SET claimed_by = NULL, claimed_at = NULL, claim_expires_at = NULL, claim_role = NULL
    FROM due
    WHERE v.id = due.id
    RETURNING v.id, due.claimed_by, due.claim_role, due.claimed_at, due.claim_expires_at
), logged AS (
    INSERT INTO public.video_events (video_id, event_type, actor, payload)
    SELECT e.id, 'assignment_expired', 'system',
           jsonb_build_object('kind', 'claim', 'previous_assignee', e.claimed_by,
                              'previous_role', e.claim_role, 'assigned_at', e.claimed_at,
                              'expired_at', e.claim_expires_at, 'correlation_id', %(correlation_id)s::text)
    FROM expired AS e
), notified AS (
    INSERT INTO public.notifications (user_id, type, video_id, payload)
    SELECT u.id, 'assignment_expired', e.id,
           jsonb_build_object('kind', 'claim', 'role', e.claim_role,
                              'expired_at', e.claim_expires_at, 'correlation_id', %(correlation_id)s::text)
    FROM expired AS e
    JOIN auth.users AS u
      ON u.id = CASE WHEN e.claimed_by ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                     THEN e.claimed_by::uuid END
    RETURNING 1
)
SELECT (SELECT count(*) FROM expired) AS expired, (SELECT count(*) FROM notified) AS notified;
