-- Keeping the leases of live stage attempts (leases.py).

-- name: renew
-- Extend the leases this worker's live attempts hold, in one statement. Only a row still holding
-- the attempt's token and a lease comes back: a row whose lease was taken over (another claim
-- took the next token), finished or released is left as it is, and its attempt learns so.
UPDATE reference_videos r
SET lease_until = now() + make_interval(secs => %(lease_s)s)
FROM unnest(%(ids)s::uuid[], %(tokens)s::bigint[]) AS held(id, token)
WHERE r.id = held.id AND r.lease_token = held.token AND r.lease_until IS NOT NULL
RETURNING r.id, r.lease_token;
