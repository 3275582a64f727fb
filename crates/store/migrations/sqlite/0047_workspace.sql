-- The daily workspace (issue 17: D1, D2). Who made a client's first
-- contact, for speed to lead per member (`first_contact_at` says when;
-- backfilled from the timeline like migration 13). The home page and the
-- reports read short index ranges, never the whole clients table:
-- the leads that arrived in a period (speed to lead, leads per source per
-- day), a member's leads not contacted yet (its new leads), and the
-- reclaims of a period.
ALTER TABLE clients ADD COLUMN first_contact_by BIGINT;
UPDATE clients SET first_contact_by = (
    SELECT e.actor_member_id FROM client_events e
    WHERE e.client_id = clients.id AND e.actor_member_id IS NOT NULL
      AND e.kind IN ('note', 'message', 'updated', 'delivered')
    ORDER BY e.at, e.id LIMIT 1
)
WHERE first_contact_at IS NOT NULL;
CREATE INDEX clients_account_created ON clients (account_id, created_at);
CREATE INDEX clients_uncontacted ON clients (assignee_id, id)
    WHERE contacted_at IS NULL AND assignee_id IS NOT NULL;
CREATE INDEX client_events_reclaimed ON client_events (account_id, at)
    WHERE kind = 'reclaimed';
