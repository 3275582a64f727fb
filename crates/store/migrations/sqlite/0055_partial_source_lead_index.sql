-- Issue 19: only a lead from a source has a source lead id; a client added
-- by hand or by a CSV import has neither, yet each paid an entry (NULL,
-- NULL) in the unique index of source leads. The index now holds the
-- clients that came from a source, and stays unique for them; every lookup
-- names a source (`source_id = ...`, in a join or a WHERE), which both
-- engines take as implying the index's condition.
DROP INDEX IF EXISTS clients_source_lead;
CREATE UNIQUE INDEX clients_source_lead ON clients (source_id, source_lead_id)
    WHERE source_id IS NOT NULL;
