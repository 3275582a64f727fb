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
-- The leads of a period carry what the reports read (covering: no visit
-- of the table rows).
CREATE INDEX clients_account_created ON clients
    (account_id, created_at, source_id, source, assignee_id, first_contact_by, first_contact_at);
CREATE INDEX clients_uncontacted ON clients (assignee_id, id)
    WHERE contacted_at IS NULL AND assignee_id IS NOT NULL;
CREATE INDEX client_events_reclaimed ON client_events (account_id, at)
    WHERE kind = 'reclaimed';
-- Each member's open clients counted from the index alone (capacity in
-- use, and routing with capacities: A4); and the backlog (A11, D2) in the
-- order it drains, without walking the other unassigned clients. (Created
-- in this order: SQLite, without statistics, takes the later of two
-- indexes that match a query equally well, and the backlog's queries must
-- take the partial one.)
CREATE INDEX clients_account_assignee_status ON clients (account_id, assignee_id, status);
CREATE INDEX clients_waiting_oldest ON clients (account_id, assignee_id, id)
    WHERE waiting_rule IS NOT NULL;
