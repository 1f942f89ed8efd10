-- The scheduler's fire ledger: one row per (schedule, fire time), inserted in the same
-- transaction that sends the tick's message. A second scheduler, or one taking over after
-- a hand-over, finds the row (or waits on its uncommitted key) and sends nothing.
-- Worker-internal: RLS on with no policies, so the API roles never see it.

CREATE TABLE public.flashflow_schedule_fires (
    schedule    text        NOT NULL,
    fire_time   timestamptz NOT NULL,
    actor       text        NOT NULL,
    message_id  text        NOT NULL,
    scheduler   text        NOT NULL,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule, fire_time)
);
CREATE INDEX flashflow_schedule_fires_enqueued_at_idx ON public.flashflow_schedule_fires (enqueued_at);

ALTER TABLE public.flashflow_schedule_fires ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON public.flashflow_schedule_fires FROM anon, authenticated;
