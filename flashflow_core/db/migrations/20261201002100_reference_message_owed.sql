-- A Winners Bank row that owes a message: set in the same transaction that makes the row need one
-- (a submission, a retry, an attachment) and cleared once the message is in Redis. A sender that
-- cannot reach Redis (or dies before sending) leaves it set, and the intake in every worker that
-- consumes `fetch` sends the message for the stage the row's status waits on within seconds of
-- Redis answering again, instead of the stuck-work rescue 10+ minutes later.
ALTER TABLE public.reference_videos ADD COLUMN message_owed_since timestamptz;

-- The intake looks for owed rows every few seconds; almost none are, so the partial index is tiny.
CREATE INDEX reference_videos_message_owed_idx ON public.reference_videos (message_owed_since)
    WHERE message_owed_since IS NOT NULL;
