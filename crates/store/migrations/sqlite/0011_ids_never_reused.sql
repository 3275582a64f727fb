-- no-transaction
-- X4: an id is never reused. SQLite gives a deleted row's id to the next
-- row unless the table is declared AUTOINCREMENT, which an existing table
-- cannot be altered to: each table with an id is rebuilt as SQLite's
-- "other kinds of table schema changes" describe (foreign keys off, one
-- transaction, copy, drop, rename, indexes again), keeping every row and id.
-- Members also become tombstones when removed (status 'removed', kept for
-- history): the email is unique among the members not removed.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE accounts_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    require_2fa INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
INSERT INTO accounts_rebuilt (id, name, require_2fa, created_at) SELECT id, name, require_2fa, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_rebuilt RENAME TO accounts;

CREATE TABLE users_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_pending_secret TEXT,
    totp_last_step BIGINT,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL
);
INSERT INTO users_rebuilt (id, email, name, password_hash, totp_secret, totp_pending_secret, totp_last_step, created_at, password_changed_at) SELECT id, email, name, password_hash, totp_secret, totp_pending_secret, totp_last_step, created_at, password_changed_at FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;

CREATE TABLE roles_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    preset TEXT,
    permissions BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, name)
);
INSERT INTO roles_rebuilt (id, account_id, name, preset, permissions, created_at) SELECT id, account_id, name, preset, permissions, created_at FROM roles;
DROP TABLE roles;
ALTER TABLE roles_rebuilt RENAME TO roles;

CREATE TABLE members_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role_id BIGINT NOT NULL REFERENCES roles(id),
    permissions BIGINT,
    status TEXT NOT NULL,
    is_owner INTEGER NOT NULL DEFAULT 0,
    agent INTEGER NOT NULL DEFAULT 1,
    capacity BIGINT,
    invited_at BIGINT,
    activated_at BIGINT,
    deactivated_at BIGINT,
    created_at BIGINT NOT NULL,
    team_view TEXT,
    removed_at BIGINT
);
INSERT INTO members_rebuilt (id, account_id, user_id, email, name, role_id, permissions, status, is_owner, agent, capacity, invited_at, activated_at, deactivated_at, created_at) SELECT id, account_id, user_id, email, name, role_id, permissions, status, is_owner, agent, capacity, invited_at, activated_at, deactivated_at, created_at FROM members;
DROP TABLE members;
ALTER TABLE members_rebuilt RENAME TO members;
CREATE UNIQUE INDEX members_one_owner ON members (account_id) WHERE is_owner = 1;
CREATE INDEX members_user ON members (user_id);
CREATE INDEX members_account_status ON members (account_id, status);
CREATE UNIQUE INDEX members_account_email ON members (account_id, email) WHERE status <> 'removed';

CREATE TABLE teams_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, name)
);
INSERT INTO teams_rebuilt (id, account_id, name, created_at) SELECT id, account_id, name, created_at FROM teams;
DROP TABLE teams;
ALTER TABLE teams_rebuilt RENAME TO teams;
CREATE UNIQUE INDEX teams_name_unique ON teams (account_id, LOWER(name));

CREATE TABLE sessions_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_agent TEXT,
    ip TEXT
);
INSERT INTO sessions_rebuilt (id, token_hash, user_id, account_id, created_at, last_seen_at, expires_at, user_agent, ip) SELECT id, token_hash, user_id, account_id, created_at, last_seen_at, expires_at, user_agent, ip FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE recovery_codes_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT
);
INSERT INTO recovery_codes_rebuilt (id, user_id, code_hash, used_at) SELECT id, user_id, code_hash, used_at FROM recovery_codes;
DROP TABLE recovery_codes;
ALTER TABLE recovery_codes_rebuilt RENAME TO recovery_codes;
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

CREATE TABLE audit_log_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT REFERENCES accounts(id) ON DELETE CASCADE,
    actor_user_id BIGINT,
    actor_member_id BIGINT,
    action TEXT NOT NULL,
    target_kind TEXT,
    target_id BIGINT,
    before_json TEXT,
    after_json TEXT,
    at BIGINT NOT NULL
);
INSERT INTO audit_log_rebuilt (id, account_id, actor_user_id, actor_member_id, action, target_kind, target_id, before_json, after_json, at) SELECT id, account_id, actor_user_id, actor_member_id, action, target_kind, target_id, before_json, after_json, at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_rebuilt RENAME TO audit_log;
CREATE INDEX audit_log_account_at ON audit_log (account_id, id);

CREATE TABLE outbox_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    sent_at BIGINT,
    last_error TEXT
);
INSERT INTO outbox_rebuilt (id, account_id, to_email, subject, body_text, kind, created_at, attempts, next_attempt_at, locked_until, sent_at, last_error) SELECT id, account_id, to_email, subject, body_text, kind, created_at, attempts, next_attempt_at, locked_until, sent_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

CREATE TABLE clients_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    source TEXT NOT NULL,
    source_id BIGINT,
    source_lead_id TEXT,
    fields_json TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'open',
    outcome TEXT,
    team_id BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    assignee_id BIGINT REFERENCES members(id),
    ever_assigned INTEGER NOT NULL DEFAULT 0,
    routing_reason TEXT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    assigned_at BIGINT
);
INSERT INTO clients_rebuilt (id, account_id, name, email, phone, source, source_id, source_lead_id, fields_json, status, outcome, team_id, assignee_id, ever_assigned, routing_reason, created_by, created_at, updated_at, assigned_at) SELECT id, account_id, name, email, phone, source, source_id, source_lead_id, fields_json, status, outcome, team_id, assignee_id, ever_assigned, routing_reason, created_by, created_at, updated_at, assigned_at FROM clients;
DROP TABLE clients;
ALTER TABLE clients_rebuilt RENAME TO clients;
CREATE INDEX clients_account_id ON clients (account_id, id);
CREATE INDEX clients_account_assignee ON clients (account_id, assignee_id, id);
CREATE INDEX clients_account_team ON clients (account_id, team_id, id);
CREATE INDEX clients_account_email ON clients (account_id, email);
CREATE INDEX clients_account_phone ON clients (account_id, phone);
CREATE UNIQUE INDEX clients_source_lead ON clients (source_id, source_lead_id);

CREATE TABLE client_events_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id BIGINT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    actor_member_id BIGINT,
    body TEXT,
    data_json TEXT,
    at BIGINT NOT NULL
);
INSERT INTO client_events_rebuilt (id, account_id, client_id, kind, actor_member_id, body, data_json, at) SELECT id, account_id, client_id, kind, actor_member_id, body, data_json, at FROM client_events;
DROP TABLE client_events;
ALTER TABLE client_events_rebuilt RENAME TO client_events;
CREATE INDEX client_events_client ON client_events (client_id, id);

CREATE TABLE notifications_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    client_id BIGINT REFERENCES clients(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
INSERT INTO notifications_rebuilt (id, account_id, member_id, kind, client_id, body, created_at, read_at) SELECT id, account_id, member_id, kind, client_id, body, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_rebuilt RENAME TO notifications;
CREATE INDEX notifications_member ON notifications (member_id, id);

CREATE TABLE groups_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    color TEXT,
    created_by BIGINT REFERENCES members(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO groups_rebuilt (id, account_id, name, description, color, created_by, created_at, updated_at) SELECT id, account_id, name, description, color, created_by, created_at, updated_at FROM groups;
DROP TABLE groups;
ALTER TABLE groups_rebuilt RENAME TO groups;
CREATE UNIQUE INDEX groups_name_unique ON groups (account_id, LOWER(name));
CREATE INDEX groups_created_by ON groups (created_by);

CREATE TABLE content_items_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL DEFAULT '',
    shared INTEGER NOT NULL DEFAULT 0,
    author_id BIGINT REFERENCES members(id) ON DELETE SET NULL,
    file_name TEXT,
    file_type TEXT,
    file_size BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO content_items_rebuilt (id, account_id, kind, title, subject, body, shared, author_id, file_name, file_type, file_size, created_at, updated_at) SELECT id, account_id, kind, title, subject, body, shared, author_id, file_name, file_type, file_size, created_at, updated_at FROM content_items;
DROP TABLE content_items;
ALTER TABLE content_items_rebuilt RENAME TO content_items;
CREATE INDEX content_items_account ON content_items (account_id, kind);
CREATE INDEX content_items_author ON content_items (author_id);

CREATE TABLE lead_sources_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO lead_sources_rebuilt (id, account_id, kind, name, secret, verify_token, enabled, created_at, rotated_at) SELECT id, account_id, kind, name, secret, verify_token, enabled, created_at, rotated_at FROM lead_sources;
DROP TABLE lead_sources;
ALTER TABLE lead_sources_rebuilt RENAME TO lead_sources;

CREATE TABLE assignment_rules_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    criteria_json TEXT NOT NULL,
    action_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO assignment_rules_rebuilt (id, account_id, position, name, criteria_json, action_json, created_at, updated_at) SELECT id, account_id, position, name, criteria_json, action_json, created_at, updated_at FROM assignment_rules;
DROP TABLE assignment_rules;
ALTER TABLE assignment_rules_rebuilt RENAME TO assignment_rules;
CREATE INDEX assignment_rules_account ON assignment_rules (account_id, position);

CREATE TABLE api_keys_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    permissions BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
INSERT INTO api_keys_rebuilt (id, account_id, member_id, name, token_hash, permissions, created_at, last_used_at, revoked_at) SELECT id, account_id, member_id, name, token_hash, permissions, created_at, last_used_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_rebuilt RENAME TO api_keys;
CREATE INDEX api_keys_account ON api_keys (account_id, id);
CREATE INDEX api_keys_member ON api_keys (member_id);

CREATE TABLE seat_ledger_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL,
    member_name TEXT NOT NULL,
    member_email TEXT NOT NULL,
    -- activated | deactivated | reactivated | removed
    kind TEXT NOT NULL,
    at BIGINT NOT NULL
);
INSERT INTO seat_ledger_rebuilt (id, account_id, member_id, member_name, member_email, kind, at) SELECT id, account_id, member_id, member_name, member_email, kind, at FROM seat_ledger;
DROP TABLE seat_ledger;
ALTER TABLE seat_ledger_rebuilt RENAME TO seat_ledger;
CREATE INDEX seat_ledger_account_at ON seat_ledger (account_id, at, id);

CREATE TABLE credit_ledger_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    delta BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    actor_member_id BIGINT,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
INSERT INTO credit_ledger_rebuilt (id, account_id, member_id, delta, balance_after, actor_member_id, reason, at) SELECT id, account_id, member_id, delta, balance_after, actor_member_id, reason, at FROM credit_ledger;
DROP TABLE credit_ledger;
ALTER TABLE credit_ledger_rebuilt RENAME TO credit_ledger;
CREATE INDEX credit_ledger_member ON credit_ledger (member_id, id);

-- Ids that history still names (the audit log, the seat ledger, the
-- timeline) are not handed out again either, even where their row was
-- deleted before this migration: each table's sequence starts after them.
DELETE FROM sqlite_sequence WHERE name = 'accounts';
INSERT INTO sqlite_sequence (name, seq) SELECT 'accounts', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM accounts) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'account') AS v
);
DELETE FROM sqlite_sequence WHERE name = 'users';
INSERT INTO sqlite_sequence (name, seq) SELECT 'users', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM users) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'user') AS v
    UNION ALL SELECT (SELECT MAX(actor_user_id) FROM audit_log) AS v
);
DELETE FROM sqlite_sequence WHERE name = 'roles';
INSERT INTO sqlite_sequence (name, seq) SELECT 'roles', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM roles) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'role') AS v
);
DELETE FROM sqlite_sequence WHERE name = 'members';
INSERT INTO sqlite_sequence (name, seq) SELECT 'members', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM members) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'member') AS v
    UNION ALL SELECT (SELECT MAX(member_id) FROM seat_ledger) AS v
    UNION ALL SELECT (SELECT MAX(actor_member_id) FROM audit_log) AS v
    UNION ALL SELECT (SELECT MAX(actor_member_id) FROM client_events) AS v
    UNION ALL SELECT (SELECT MAX(actor_member_id) FROM credit_ledger) AS v
);
DELETE FROM sqlite_sequence WHERE name = 'teams';
INSERT INTO sqlite_sequence (name, seq) SELECT 'teams', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM teams) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'team') AS v
);
DELETE FROM sqlite_sequence WHERE name = 'clients';
INSERT INTO sqlite_sequence (name, seq) SELECT 'clients', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM clients) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'client') AS v
    UNION ALL SELECT (SELECT MAX(client_id) FROM idempotency_keys) AS v
);
DELETE FROM sqlite_sequence WHERE name = 'groups';
INSERT INTO sqlite_sequence (name, seq) SELECT 'groups', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM groups) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'group') AS v
);
DELETE FROM sqlite_sequence WHERE name = 'content_items';
INSERT INTO sqlite_sequence (name, seq) SELECT 'content_items', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM content_items) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'content') AS v
);
DELETE FROM sqlite_sequence WHERE name = 'lead_sources';
INSERT INTO sqlite_sequence (name, seq) SELECT 'lead_sources', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM lead_sources) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'lead_source') AS v
);
DELETE FROM sqlite_sequence WHERE name = 'assignment_rules';
INSERT INTO sqlite_sequence (name, seq) SELECT 'assignment_rules', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM assignment_rules) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'assignment_rule') AS v
);
DELETE FROM sqlite_sequence WHERE name = 'api_keys';
INSERT INTO sqlite_sequence (name, seq) SELECT 'api_keys', COALESCE(MAX(v), 0) FROM (
    SELECT (SELECT MAX(id) FROM api_keys) AS v
    UNION ALL SELECT (SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'api_key') AS v
);

COMMIT;
PRAGMA foreign_keys = ON;
