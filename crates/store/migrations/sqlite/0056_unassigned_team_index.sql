-- Issue 19: a client list filtered to one team (`?team=`) reads its
-- unassigned part from this index: the team's unassigned clients, newest
-- first from the cursor. Without it the part walked every unassigned
-- client below the cursor (or every client of the team) for the few
-- unassigned ones of the team. Only unassigned clients have an entry, so
-- storing an assigned lead costs nothing more.
CREATE INDEX clients_unassigned_team ON clients (account_id, team_id, id)
    WHERE assignee_id IS NULL;
