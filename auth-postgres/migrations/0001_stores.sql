-- auth-postgres migration 1: the tables of every store. `{t}` is the schema-qualified table
-- prefix and `{p}` the bare prefix (index names live in their table's schema). Times are Unix
-- nanoseconds (bigint); digests are bytea; no secret is ever stored, only digests and sealed
-- TOTP secrets. Every request-path query is a primary-key or unique-index lookup; the
-- expiry indexes serve the background sweep.

CREATE TABLE {t}api_keys (
    id text PRIMARY KEY,
    hash bytea NOT NULL,
    owner text NOT NULL,
    created_at bigint NOT NULL,
    -- When the sweep may delete the row: retention after the key stopped working (NULL for a
    -- live key without expiry, which is never deleted).
    purge_after bigint,
    -- The ApiKeyRecord as JSON (serde form: digest as hex, times as nanoseconds).
    record text NOT NULL,
    CONSTRAINT {p}api_keys_hash_key UNIQUE (hash)
);
CREATE INDEX {p}api_keys_owner_idx ON {t}api_keys (owner, created_at, id);
CREATE INDEX {p}api_keys_purge_idx ON {t}api_keys (purge_after) WHERE purge_after IS NOT NULL;

CREATE TABLE {t}refresh_families (
    id text PRIMARY KEY,
    subject text NOT NULL,
    revoked boolean NOT NULL DEFAULT false,
    -- The latest expiry of the family's tokens.
    expires_at bigint NOT NULL
);
CREATE INDEX {p}refresh_families_subject_idx ON {t}refresh_families (subject);
CREATE INDEX {p}refresh_families_expiry_idx ON {t}refresh_families (expires_at);

CREATE TABLE {t}refresh_tokens (
    hash bytea PRIMARY KEY,
    family text NOT NULL REFERENCES {t}refresh_families (id) ON DELETE CASCADE,
    expires_at bigint NOT NULL,
    used boolean NOT NULL DEFAULT false
);
CREATE INDEX {p}refresh_tokens_family_idx ON {t}refresh_tokens (family);
CREATE INDEX {p}refresh_tokens_expiry_idx ON {t}refresh_tokens (expires_at);

-- kind 1: one token by jti; 2: a session by sid; 3: a subject's cutoff (issued_before).
-- issuer is 0x00 for tokens without `iss`, 0x01 followed by the issuer otherwise. Identifiers
-- come from tokens, so they are kept as bytes (any string, NUL included).
CREATE TABLE {t}revocations (
    kind smallint NOT NULL,
    issuer bytea NOT NULL,
    id bytea NOT NULL,
    issued_before bigint,
    until bigint NOT NULL,
    PRIMARY KEY (kind, issuer, id)
);
CREATE INDEX {p}revocations_until_idx ON {t}revocations (until);

CREATE TABLE {t}totp_credentials (
    account text PRIMARY KEY,
    id text NOT NULL,
    sealed bytea NOT NULL,
    algorithm text NOT NULL,
    digits smallint NOT NULL,
    period bigint NOT NULL,
    created_at bigint NOT NULL,
    -- Pending: when the enrolment lapses. Active: the last accepted time step.
    pending_until bigint,
    last_step bigint,
    CHECK ((pending_until IS NULL) <> (last_step IS NULL))
);
CREATE INDEX {p}totp_pending_idx ON {t}totp_credentials (pending_until)
    WHERE pending_until IS NOT NULL;

CREATE TABLE {t}recovery_codes (
    account text NOT NULL,
    digest bytea NOT NULL,
    PRIMARY KEY (account, digest)
);

CREATE TABLE {t}mfa_tokens (
    hash bytea PRIMARY KEY,
    subject text NOT NULL,
    binding text NOT NULL,
    started_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX {p}mfa_tokens_expiry_idx ON {t}mfa_tokens (expires_at);

CREATE TABLE {t}auth_contexts (
    session text PRIMARY KEY,
    claims text NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX {p}auth_contexts_expiry_idx ON {t}auth_contexts (expires_at);

CREATE TABLE {t}identities (
    issuer text NOT NULL,
    subject text NOT NULL,
    provider text NOT NULL,
    account text NOT NULL,
    linked_at bigint NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX {p}identities_account_idx ON {t}identities (account, linked_at);

CREATE TABLE {t}used_states (
    state_id text PRIMARY KEY,
    expires_at bigint NOT NULL
);
CREATE INDEX {p}used_states_expiry_idx ON {t}used_states (expires_at);
