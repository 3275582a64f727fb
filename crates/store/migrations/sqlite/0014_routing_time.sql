-- Routing that knows time and people (A8-A14).

-- A8: working hours (a weekly schedule in the member's IANA zone, JSON),
-- time off, the away switch, the account's holidays.
CREATE TABLE member_schedules (
    member_id BIGINT PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    schedule_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE time_off (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    from_day TEXT NOT NULL,
    to_day TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX time_off_member ON time_off (member_id, to_day);
CREATE TABLE holidays (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, day)
);
ALTER TABLE members ADD COLUMN away INTEGER NOT NULL DEFAULT 0;
-- Who set the away switch (the member itself, or a manager overriding it).
ALTER TABLE members ADD COLUMN away_set_by BIGINT;

-- A9: each round robin's state (the current run and its counts), JSON,
-- beside its position.
ALTER TABLE rr_counters ADD COLUMN state_json TEXT;

-- A10: a first-contact limit on a rule (and on the default rule), and the
-- deadline of each lead it assigned, fired once by any node.
ALTER TABLE assignment_rules ADD COLUMN contact_minutes BIGINT;
ALTER TABLE assignment_rules ADD COLUMN contact_max_moves BIGINT;
ALTER TABLE default_rules ADD COLUMN contact_minutes BIGINT;
ALTER TABLE default_rules ADD COLUMN contact_max_moves BIGINT;
CREATE TABLE contact_deadlines (
    client_id BIGINT PRIMARY KEY REFERENCES clients(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL,
    -- The rule whose limit it is (JSON RuleRef).
    rule_json TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    moves BIGINT NOT NULL DEFAULT 0,
    max_moves BIGINT NOT NULL,
    minutes BIGINT NOT NULL
);
CREATE INDEX contact_deadlines_due ON contact_deadlines (due_at);
CREATE INDEX contact_deadlines_member ON contact_deadlines (member_id);

-- A11: a lead that waits because nobody could take it keeps the rule that
-- will assign it (JSON RuleRef) until someone frees up.
ALTER TABLE clients ADD COLUMN waiting_rule TEXT;
CREATE INDEX clients_waiting ON clients (account_id, id) WHERE waiting_rule IS NOT NULL;

-- A12: the last automatic decision about a client, with everyone considered.
ALTER TABLE clients ADD COLUMN routing_json TEXT;

-- A14: when the routing admins of an account were last told of a lead that
-- nobody could take (once per burst).
CREATE TABLE routing_alerts (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    last_at BIGINT NOT NULL
);
