-- A10, D2: when a client was contacted. `contacted_at` is the first contact
-- by its current assignee (a note, a message, an update, a delivery), set
-- back to NULL whenever the client changes hands; `first_contact_at` is the
-- first contact ever (speed to lead, D2). Both are backfilled from the
-- timeline.
ALTER TABLE clients ADD COLUMN first_contact_at BIGINT;
ALTER TABLE clients ADD COLUMN contacted_at BIGINT;
UPDATE clients SET first_contact_at = (
    SELECT MIN(e.at) FROM client_events e
    WHERE e.client_id = clients.id AND e.actor_member_id IS NOT NULL
      AND e.kind IN ('note', 'message', 'updated', 'delivered')
);
UPDATE clients SET contacted_at = (
    SELECT MIN(e.at) FROM client_events e
    WHERE e.client_id = clients.id AND e.actor_member_id = clients.assignee_id
      AND e.kind IN ('note', 'message', 'updated', 'delivered')
      AND e.at >= COALESCE(clients.assigned_at, 0)
)
WHERE assignee_id IS NOT NULL;
CREATE INDEX clients_account_first_contact ON clients (account_id, first_contact_at);
