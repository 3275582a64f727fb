-- Issue 17: when a Facebook source's page access token is saved, the Graph
-- worker looks up the pages the token reaches and their lead forms, so that
-- their names (facebook_names) are known before any lead arrives. One row
-- per source, queued again on each save (`generation` tells a save from the
-- one before, so an answer about an older token does not end the newer
-- lookup), retried with backoff like graph_fetches.
CREATE TABLE graph_lookups (
    source_id BIGINT PRIMARY KEY REFERENCES lead_sources(id) ON DELETE CASCADE,
    generation BIGINT NOT NULL DEFAULT 1,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    done_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX graph_lookups_due ON graph_lookups (next_attempt_at) WHERE done_at IS NULL;
