-- Lead sources, idempotent intake, assignment rules and round-robin counters.
CREATE TABLE lead_sources (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    secret TEXT NOT NULL,
    verify_token TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    UNIQUE (account_id, name)
);

CREATE UNIQUE INDEX clients_source_lead ON clients (source_id, source_lead_id);

CREATE TABLE idempotency_keys (
    source_id BIGINT NOT NULL REFERENCES lead_sources(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    client_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (source_id, key)
);

CREATE TABLE assignment_rules (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    criteria_json TEXT NOT NULL,
    action_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX assignment_rules_account ON assignment_rules (account_id, position);

CREATE TABLE default_rules (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    action_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Round-robin positions on SQLite (PostgreSQL uses one sequence per rule).
CREATE TABLE rr_counters (
    key TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
