-- Exactly-once processing: an inbox event is marked processed in the same transaction that
-- completes the job handling it and writes that job's effect record (audit entry `effect_id`).
-- Keep this file and ../sqlite/0002_processed.sql in step.

ALTER TABLE inbox ADD COLUMN processed_ms BIGINT;
ALTER TABLE inbox ADD COLUMN effect_id BIGINT;

-- Events of jobs finished before this migration were processed by them (the best we know).
UPDATE inbox SET processed_ms = received_ms
 WHERE job_id IN (SELECT id FROM jobs WHERE state = 'done');

-- What a finishing job looks up: unprocessed events of its entity, or attached to it.
CREATE INDEX inbox_unprocessed_entity ON inbox (entity_key, id) WHERE processed_ms IS NULL;
CREATE INDEX inbox_by_job ON inbox (job_id) WHERE processed_ms IS NULL;
