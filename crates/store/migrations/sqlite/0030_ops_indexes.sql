-- Figures read at every scrape of /metrics (issue 16): the unassigned
-- backlog (how many, the oldest) and the outbox queue (how many, the
-- oldest) come from these small partial indexes instead of a scan.
CREATE INDEX clients_unassigned_backlog ON clients (created_at) WHERE assignee_id IS NULL;
CREATE INDEX outbox_pending ON outbox (created_at) WHERE sent_at IS NULL;
