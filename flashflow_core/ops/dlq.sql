-- Dead letters: why each message was dead-lettered, kept in audit_log.

-- name: record_dead_letter
-- message_id is the dead letter's Dramatiq id (NULL when it could not be decoded), so a producer
-- tracing its message finds why it was refused.
INSERT INTO audit_log (correlation_id, message_id, event_type, entity_type, entity_id, actor, summary, details)
VALUES (%(correlation_id)s, %(message_id)s, 'message.dead_lettered', 'message', %(redis_message_id)s, 'worker',
        %(summary)s, %(details)s);

-- name: reasons
-- The latest recorded reason of each dead-lettered message, by its Redis id.
SELECT DISTINCT ON (entity_id) entity_id AS redis_message_id, summary, details, created_at
FROM audit_log
WHERE event_type = 'message.dead_lettered' AND entity_type = 'message' AND entity_id = ANY(%(ids)s)
ORDER BY entity_id, created_at DESC;

-- name: record_operator_action
INSERT INTO audit_log (correlation_id, message_id, event_type, entity_type, entity_id, actor, summary, details)
VALUES (%(correlation_id)s, %(message_id)s, %(event_type)s, 'message', %(redis_message_id)s, %(actor)s, %(summary)s, %(details)s);
