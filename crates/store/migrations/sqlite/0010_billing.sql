-- Billing (B1-B5): the plan facts of each account, the seat ledger, the
-- agents on duty (licences) and credits. Money is in cents, times are BIGINT
-- milliseconds (UTC), flags INTEGER 0/1.

-- One row per account, written at sign-up (defaults in store::billing).
CREATE TABLE billing_plans (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    -- The free trial ends at this instant (B1).
    trial_ends_at BIGINT NOT NULL,
    -- Monthly cycles start on this day of the month, 1..=28.
    anchor_day BIGINT NOT NULL,
    -- Price per active member per cycle (B2).
    price_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    -- Seats purchased, the owner's included (B3).
    seats BIGINT NOT NULL,
    -- Agents who may be on duty at the same time (B4).
    licences BIGINT NOT NULL,
    -- 1: routing and the inbox only use agents on duty (B4).
    enforce_licences INTEGER NOT NULL DEFAULT 0,
    -- Credits an action costs; 0 = free (B5).
    claim_cost_credits BIGINT NOT NULL DEFAULT 0,
    accept_cost_credits BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

-- What happened to each member's seat, and when (B2). No foreign key to
-- members: the ledger outlives a removed member, whose name and email are
-- kept here for the invoice.
CREATE TABLE seat_ledger (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL,
    member_name TEXT NOT NULL,
    member_email TEXT NOT NULL,
    -- activated | deactivated | reactivated | removed
    kind TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX seat_ledger_account_at ON seat_ledger (account_id, at, id);

-- Members who started work and hold a licence (B4).
CREATE TABLE on_duty (
    member_id BIGINT PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    since BIGINT NOT NULL
);
CREATE INDEX on_duty_account ON on_duty (account_id);

-- Credit balances (B5); never negative.
CREATE TABLE credit_balances (
    member_id BIGINT PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    balance BIGINT NOT NULL CHECK (balance >= 0)
);

-- Every change of a balance: who, why, by how much, and the balance after.
-- actor_member_id is the member who allocated or took back the credits, or
-- the member charged for an action. The rows go with the member (a removed
-- member's id may be reused on SQLite); the audit log keeps the history.
CREATE TABLE credit_ledger (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    delta BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    actor_member_id BIGINT,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX credit_ledger_member ON credit_ledger (member_id, id);

-- Members activated before this migration: their activation (and a current
-- deactivation) start the ledger. Plans of older accounts are created with
-- the defaults on first use.
INSERT INTO seat_ledger (account_id, member_id, member_name, member_email, kind, at)
SELECT account_id, id, name, email, 'activated', COALESCE(activated_at, created_at)
FROM members WHERE status IN ('active', 'deactivated');
INSERT INTO seat_ledger (account_id, member_id, member_name, member_email, kind, at)
SELECT account_id, id, name, email, 'deactivated', COALESCE(deactivated_at, created_at)
FROM members WHERE status = 'deactivated';
