-- Fencing tokens for Winners Bank stage attempts.
--
-- Every claim of a row for a stage takes the next lease_token, and the attempt carries it: each
-- write the attempt makes (its status change, assets, transcript, extract, renewing its lease) is
-- conditional on the row still holding that token, and its files are stored under a folder named
-- after it. An attempt whose lease was taken over (it was paused past its lease, its worker lost
-- Postgres for too long) therefore finds the token moved on and can never write.
ALTER TABLE public.reference_videos
    ADD COLUMN lease_token bigint NOT NULL DEFAULT 0;

COMMENT ON COLUMN public.reference_videos.lease_token IS
    'Number of the latest attempt to claim the row for a stage; every write of an attempt requires it unchanged';
