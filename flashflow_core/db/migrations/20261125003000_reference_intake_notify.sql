-- Rows the web app (or anyone with SQL) inserts into reference_videos with status 'queued' and
-- no message: a statement-level trigger sends one NOTIFY per inserting statement, and listening
-- workers take the rows in (docs/producers.md, "Inserting rows"). A row without a
-- correlation_id has not been taken in yet; the Python submit path sets one, so its rows,
-- which already have their message, do not notify.

CREATE OR REPLACE FUNCTION public.flashflow_notify_reference_intake() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE status = 'queued' AND correlation_id IS NULL) THEN
        PERFORM pg_notify('flashflow_reference_intake', '');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER reference_videos_notify_intake
    AFTER INSERT ON public.reference_videos
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION public.flashflow_notify_reference_intake();

-- "Which rows wait to be taken in": the intake sweep.
CREATE INDEX reference_videos_intake_idx ON public.reference_videos (created_at)
    WHERE status = 'queued' AND correlation_id IS NULL;
