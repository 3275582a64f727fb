-- Integrations (I4-I9): hosted forms, secret URLs and Facebook settings of a
-- source, key intake scopes, the delivery log of each source, form rate
-- counters, Graph API fetches, and outbound webhooks with their events outbox.
ALTER TABLE lead_sources ADD COLUMN form_key TEXT;
ALTER TABLE lead_sources ADD COLUMN url_token TEXT;
ALTER TABLE lead_sources ADD COLUMN settings_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE lead_sources ADD COLUMN page_token TEXT;
CREATE UNIQUE INDEX lead_sources_form_key ON lead_sources (form_key);
CREATE UNIQUE INDEX lead_sources_url_token ON lead_sources (url_token);

ALTER TABLE api_keys ADD COLUMN lead_source_ids TEXT;

CREATE TABLE source_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id BIGINT NOT NULL REFERENCES lead_sources(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    detail TEXT,
    client_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX source_deliveries_source ON source_deliveries (source_id, id);

CREATE TABLE form_rate (
    key TEXT PRIMARY KEY,
    window_started_at BIGINT NOT NULL,
    hits BIGINT NOT NULL
);

CREATE TABLE graph_fetches (
    client_id BIGINT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
    source_id BIGINT NOT NULL REFERENCES lead_sources(id) ON DELETE CASCADE,
    leadgen_id TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    done_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX graph_fetches_due ON graph_fetches (next_attempt_at) WHERE done_at IS NULL;

CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_by BIGINT,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    failures BIGINT NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account_id, id);

CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id BIGINT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    state TEXT NOT NULL DEFAULT 'pending',
    last_status BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
