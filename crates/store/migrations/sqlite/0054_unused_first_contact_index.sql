-- Issue 19: `clients_account_first_contact` (migration 13) has served no
-- query since migration 47: speed to lead reads the leads of a period
-- through `clients_account_created`, which carries `first_contact_at`, and
-- nothing else looks clients up or orders them by it. Every client written
-- (a lead, an import row, a client added by hand) still paid an entry in
-- it, and every first contact an update of it.
DROP INDEX IF EXISTS clients_account_first_contact;
