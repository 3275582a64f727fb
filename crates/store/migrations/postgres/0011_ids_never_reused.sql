-- X4: ids are never reused (identity columns already never hand out an id
-- twice). Members become tombstones when removed (status 'removed', kept
-- for history): the email is unique among the members not removed.
ALTER TABLE members DROP CONSTRAINT members_account_id_email_key;
ALTER TABLE members ADD COLUMN removed_at BIGINT;
CREATE UNIQUE INDEX members_account_email ON members (account_id, email) WHERE status <> 'removed';

-- A2/A7: round-robin positions move from sequences (not transactional: a
-- rolled-back batch or a crash burned positions) to the counter rows SQLite
-- already used, written in the transaction that routes the lead. Each
-- sequence's last position is carried over, then the sequence goes.
DO $$
DECLARE
    s record;
    last_pos bigint;
    called boolean;
BEGIN
    FOR s IN SELECT sequencename FROM pg_sequences
             WHERE schemaname = current_schema() AND sequencename LIKE 'lt\_rr\_%'
    LOOP
        EXECUTE format('SELECT last_value, is_called FROM %I', s.sequencename) INTO last_pos, called;
        INSERT INTO rr_counters (key, position)
        VALUES (substr(s.sequencename, 7), CASE WHEN called THEN last_pos ELSE last_pos - 1 END)
        ON CONFLICT (key) DO UPDATE SET position = GREATEST(rr_counters.position, excluded.position);
        EXECUTE format('DROP SEQUENCE %I', s.sequencename);
    END LOOP;
END
$$;
