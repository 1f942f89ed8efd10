-- Every status change of a reference_videos row is audited by one trigger, whoever makes it: a
-- worker's stage, the rescue, `flashflow retry` / `attach-*`, the console, or the web app's plain
-- UPDATE. Documented in docs/schema.md ("Worker columns") and docs/architecture.md.
--
-- The statement that changes a row says who and why in `audit_context` (set in the same UPDATE,
-- so it needs no extra round trip and no session state); the trigger moves it into audit_log and
-- clears it, so the column is NULL at rest and a later UPDATE that does not set it (the web app)
-- can never inherit the previous statement's actor or message. For such an UPDATE the actor is
-- the signed-in Supabase user (auth.uid()), else the database role.

-- The Dramatiq message id of the job that wrote an audit row (NULL for a person's command), so a
-- producer can follow its message: `flashflow show MESSAGE_ID` and the console search it.
ALTER TABLE public.audit_log ADD COLUMN IF NOT EXISTS message_id text;
CREATE INDEX IF NOT EXISTS audit_log_message_id_idx ON public.audit_log (message_id);

-- {"event", "actor", "message_id", "summary", "fresh", "details"} of the change this statement makes.
ALTER TABLE public.reference_videos
    ADD COLUMN IF NOT EXISTS audit_context jsonb CONSTRAINT reference_videos_audit_context_transient
        CHECK (audit_context IS NULL);

CREATE OR REPLACE FUNCTION public.flashflow_reference_transition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    ctx jsonb := NEW.audit_context;
    signed_in text := auth.uid()::text;
BEGIN
    NEW.audit_context := NULL;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.status_changed_at := now();
        -- A fresh move starts a stage from scratch. A plain UPDATE (no context) is a person
        -- moving the row by hand: fresh too, unless it marks the row failed (keep its error).
        IF coalesce((ctx ->> 'fresh')::boolean, NEW.status <> 'failed') THEN
            NEW.stage_attempts := 0;
            NEW.crash_count := 0;
            NEW.resend_count := 0;
            NEW.throttle_count := 0;
            NEW.last_error := NULL;
            NEW.error_message := NULL;
            NEW.failed_stage := NULL;
        END IF;
    END IF;
    INSERT INTO public.audit_log (correlation_id, message_id, event_type, entity_type, entity_id, actor,
                                  summary, details)
    VALUES (coalesce(NEW.correlation_id, ''), ctx ->> 'message_id',
            coalesce(ctx ->> 'event', 'reference.status_changed'), 'reference_video', NEW.id::text,
            coalesce(signed_in, ctx ->> 'actor', 'sql:' || session_user),
            coalesce(ctx ->> 'summary', OLD.status || ' -> ' || NEW.status),
            jsonb_build_object('from', OLD.status, 'to', NEW.status) || coalesce(ctx -> 'details', '{}'::jsonb));
    RETURN NEW;
END;
$$;

CREATE TRIGGER reference_videos_transition
    BEFORE UPDATE ON public.reference_videos
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR NEW.audit_context IS NOT NULL)
    EXECUTE FUNCTION public.flashflow_reference_transition();
