-- Kade store, SQLite flavour. Timestamps are unix milliseconds (INTEGER), JSON is TEXT, bodies BLOB.
-- Keep this file and ../postgres/0001_init.sql in step: same tables, same columns, same meaning.

CREATE TABLE connections (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    settings    TEXT NOT NULL,
    secrets_enc TEXT,
    state       TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL
);

-- The inbox: raw inbound events, committed before the sender gets its 2xx.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connection  TEXT NOT NULL,
    source      TEXT NOT NULL,
    dedupe_key  TEXT NOT NULL UNIQUE,
    event       TEXT NOT NULL,
    entity_key  TEXT,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL,
    verified    INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    job_id      INTEGER
);
CREATE INDEX inbox_by_connection ON inbox (connection, id);

CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    entity_key     TEXT,
    payload        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    priority       INTEGER NOT NULL,
    attempts       INTEGER NOT NULL,
    max_attempts   INTEGER NOT NULL,
    run_at_ms      INTEGER NOT NULL,
    dedupe_key     TEXT UNIQUE,
    last_error     TEXT,
    locked_by      TEXT,
    lease_until_ms INTEGER,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
);
-- Coalescing: at most one queued job per (kind, entity). Enqueue upserts against this index.
CREATE UNIQUE INDEX jobs_coalesce ON jobs (kind, entity_key) WHERE state = 'queued' AND entity_key IS NOT NULL;
-- Claim order for due work.
CREATE INDEX jobs_queued ON jobs (priority DESC, run_at_ms, id) WHERE state = 'queued';
-- Crash recovery (expired leases) and the per-entity "is something running" check.
CREATE INDEX jobs_running_lease ON jobs (lease_until_ms) WHERE state = 'running';
CREATE INDEX jobs_running_entity ON jobs (entity_key, lease_until_ms) WHERE state = 'running';
CREATE INDEX jobs_by_state ON jobs (state, id);

-- One row per (schedule, fire time): the first process to insert it runs that tick.
CREATE TABLE schedule_ticks (
    schedule   TEXT NOT NULL,
    fire_ms    INTEGER NOT NULL,
    claimed_ms INTEGER NOT NULL,
    PRIMARY KEY (schedule, fire_ms)
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    connection TEXT,
    entity     TEXT,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_by_entity ON audit (entity, id);

CREATE TABLE links (
    a_system   TEXT NOT NULL,
    a_kind     TEXT NOT NULL,
    a_id       TEXT NOT NULL,
    b_system   TEXT NOT NULL,
    b_kind     TEXT NOT NULL,
    b_id       TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (a_system, a_kind, a_id, b_system, b_kind)
);
CREATE INDEX links_by_b ON links (b_system, b_kind, b_id);

-- Mirror of the Picqer catalogue, per connection.
CREATE TABLE products (
    connection  TEXT NOT NULL,
    idproduct   INTEGER NOT NULL,
    productcode TEXT NOT NULL,
    name        TEXT NOT NULL,
    barcode     TEXT,
    active      INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    data        TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (connection, idproduct)
);
CREATE INDEX products_by_code ON products (connection, productcode);
CREATE INDEX products_by_barcode ON products (connection, barcode);

CREATE TABLE product_stock (
    connection  TEXT NOT NULL,
    idproduct   INTEGER NOT NULL,
    idwarehouse INTEGER NOT NULL,
    stock       INTEGER NOT NULL,
    reserved    INTEGER NOT NULL,
    freestock   INTEGER NOT NULL,
    PRIMARY KEY (connection, idproduct, idwarehouse),
    FOREIGN KEY (connection, idproduct) REFERENCES products (connection, idproduct) ON DELETE CASCADE
);

-- Small reference resources (warehouses, tags, VAT groups...), kept as their JSON.
CREATE TABLE mirror_refs (
    connection TEXT NOT NULL,
    kind       TEXT NOT NULL,
    id         INTEGER NOT NULL,
    data       TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (connection, kind, id)
);

CREATE TABLE sync_state (
    connection  TEXT NOT NULL,
    name        TEXT NOT NULL,
    cursor      TEXT NOT NULL,
    status      TEXT NOT NULL,
    items       INTEGER NOT NULL,
    last_run_ms INTEGER NOT NULL,
    last_error  TEXT,
    PRIMARY KEY (connection, name)
);

CREATE TABLE hooks (
    connection    TEXT NOT NULL,
    idhook        INTEGER NOT NULL,
    event         TEXT NOT NULL,
    address       TEXT NOT NULL,
    secret_enc    TEXT NOT NULL,
    active        INTEGER NOT NULL,
    last_event_ms INTEGER,
    updated_ms    INTEGER NOT NULL,
    PRIMARY KEY (connection, idhook)
);
