-- Issue 19: a client list filtered to a team the member does not see shows
-- the member's own clients of that team: its own part walks the member's
-- clients newest first and keeps those of the team. With the team in the
-- index the walk reads the index alone instead of each client's row (the
-- previous session measured 4.4 ms a page for a member with 9,699 clients of
-- the benchmark's 1,000,000). The order and the entries are those of the index
-- it replaces: storing a lead adds no index entry.
DROP INDEX clients_account_assignee;
CREATE INDEX clients_account_assignee ON clients (account_id, assignee_id, id, team_id);
