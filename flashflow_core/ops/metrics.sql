-- Shared-state gauges read at each Prometheus scrape.

-- name: reference_status_counts
SELECT status, count(*) FROM reference_videos GROUP BY status;

-- name: scheduler_ticks
-- One row per tick that sent a message (the scheduler's fire ledger).
SELECT schedule, count(*), max(enqueued_at) FROM flashflow_schedule_fires GROUP BY schedule;
