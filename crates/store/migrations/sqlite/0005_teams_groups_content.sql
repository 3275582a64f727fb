-- Teams (T1; the tables are in 0001), client groups and content (P5, P6, P8).

-- Team names are unique per account regardless of case.
CREATE UNIQUE INDEX teams_name_unique ON teams (account_id, LOWER(name));

-- Client groups: named lists of clients. Which clients are in a group is
-- stored by the clients feature (client_groups).
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    color TEXT,
    created_by BIGINT REFERENCES members(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_name_unique ON groups (account_id, LOWER(name));
CREATE INDEX groups_created_by ON groups (created_by);

-- Content: message templates (subject + body), files (stored on disk under
-- <data_dir>/content/<account>/<id>) and pages (title + markdown body).
-- Private (shared = 0: its author only, and admins) or shared with the account.
CREATE TABLE content_items (
    id INTEGER PRIMARY KEY,
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
CREATE INDEX content_items_account ON content_items (account_id, kind);
CREATE INDEX content_items_author ON content_items (author_id);
