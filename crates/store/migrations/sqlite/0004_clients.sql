-- Clients (leads, contacts, conversations), their timeline, guests, and
-- notifications. A client's assignee is never set back to NULL once set (C4);
-- a member with clients cannot be deleted until they are moved or deleted (M7).
CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX clients_account_id ON clients (account_id, id);
CREATE INDEX clients_account_assignee ON clients (account_id, assignee_id, id);
CREATE INDEX clients_account_team ON clients (account_id, team_id, id);
CREATE INDEX clients_account_email ON clients (account_id, email);
CREATE INDEX clients_account_phone ON clients (account_id, phone);

CREATE TABLE client_guests (
    client_id BIGINT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, member_id)
);
CREATE INDEX client_guests_member ON client_guests (member_id, client_id);

CREATE TABLE client_events (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id BIGINT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    actor_member_id BIGINT,
    body TEXT,
    data_json TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX client_events_client ON client_events (client_id, id);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    client_id BIGINT REFERENCES clients(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_member ON notifications (member_id, id);

ALTER TABLE members ADD COLUMN team_view TEXT;
