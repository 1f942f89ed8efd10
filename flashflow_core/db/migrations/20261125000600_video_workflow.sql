-- The video workflow's audit trail, user notifications and the system-wide audit log.

CREATE TABLE public.video_events (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    video_id   uuid NOT NULL REFERENCES public.videos (id) ON DELETE CASCADE,
    event_type text NOT NULL,
    actor      text,
    payload    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX video_events_video_id_created_at_idx ON public.video_events (video_id, created_at);
CREATE INDEX video_events_event_type_idx ON public.video_events (event_type);

CREATE TABLE public.notifications (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    type       text NOT NULL,
    video_id   uuid REFERENCES public.videos (id) ON DELETE SET NULL,
    payload    jsonb,
    is_read    boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_id_is_read_created_at_idx
    ON public.notifications (user_id, is_read, created_at DESC);
CREATE INDEX notifications_video_id_idx ON public.notifications (video_id);

CREATE TABLE public.audit_log (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    correlation_id text NOT NULL,
    event_type     text NOT NULL,
    entity_type    text NOT NULL,
    entity_id      text,
    actor          text,
    summary        text NOT NULL,
    details        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_correlation_id_idx ON public.audit_log (correlation_id);
CREATE INDEX audit_log_entity_idx ON public.audit_log (entity_type, entity_id);
CREATE INDEX audit_log_created_at_idx ON public.audit_log (created_at DESC);
