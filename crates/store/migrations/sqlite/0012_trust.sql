-- No usable token at rest in the outbox: a message that carries a link or a
-- code is queued with a placeholder and a reference (what the secret is for,
-- and the row it belongs to); the mail worker mints the secret when it sends
-- the message, stores only its hash, and never writes the text it sent.
ALTER TABLE outbox ADD COLUMN secret_for TEXT;
ALTER TABLE outbox ADD COLUMN ref_id BIGINT;
-- Messages of the old kind kept their live links and codes: blank them.
UPDATE outbox SET body_text = '(not kept: it carried a link or a code)'
WHERE kind IN ('invitation', 'account_deletion_code');

-- Sign-up proves the address first (no squatting, no telling which emails
-- exist): the request waits here until its emailed link is followed.
CREATE TABLE signup_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    account_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- An existing user who gave its own password: the link adds an account.
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
