-- Automations (issue 5): the send log and the opt-out list.
-- Keep this file and ../postgres/0004_automation.sql in step.

-- One row per (rule, entity, step): the UNIQUE key is what makes "one message, whatever happens"
-- hold. A row is written when a send is scheduled, moves to 'sending' in a committed transaction
-- BEFORE the provider is called (the intent), and then to its outcome. States:
--   scheduled, sending, sent, delivered, failed_permanent, skipped, in_doubt, ambiguous.
CREATE TABLE automation_sends (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    send_key    TEXT NOT NULL UNIQUE,
    rule        TEXT NOT NULL,
    entity      TEXT NOT NULL,
    step        INTEGER NOT NULL,
    connection  TEXT NOT NULL,
    channel     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('scheduled', 'sending', 'sent', 'delivered', 'failed_permanent',
                                               'skipped', 'in_doubt', 'ambiguous')),
    recipient   TEXT,
    subject     TEXT,
    body        TEXT,
    provider_id TEXT,
    error_code  TEXT,
    reason      TEXT,
    event       TEXT,
    due_ms      INTEGER NOT NULL,
    intent_ms   INTEGER,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    UNIQUE (rule, entity, step)
);
CREATE INDEX automation_sends_recipient ON automation_sends (recipient, intent_ms);
CREATE INDEX automation_sends_provider ON automation_sends (provider_id);
CREATE INDEX automation_sends_state ON automation_sends (state, id);

-- Customers who asked not to be contacted on a channel (per channel: stopping SMS is not
-- unsubscribing from e-mail).
CREATE TABLE automation_optouts (
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    reason     TEXT,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (channel, recipient)
);
