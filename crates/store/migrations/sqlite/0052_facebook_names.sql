-- I6 / issue 17: the Facebook pages and lead forms a source has seen, with
-- their names as the Graph API gave them (NULL until it did), so the rule
-- form offers them by name. `checked_at` is when the name was last asked for.
CREATE TABLE facebook_names (
    source_id BIGINT NOT NULL REFERENCES lead_sources(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('page', 'form')),
    external_id TEXT NOT NULL,
    name TEXT,
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (source_id, kind, external_id)
);
CREATE INDEX facebook_names_account ON facebook_names (account_id, kind);
