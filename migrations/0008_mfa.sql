-- Second factors: TOTP, recovery codes, passkeys, and the state between the first factor
-- and the second. What a sign-in proved (RFC 8176 `amr` values, space-separated) is kept
-- with the session, the refresh family and the authorization code it produced.

-- One TOTP authenticator per user. The secret is sealed (AES-256-GCM under a key derived
-- from the master secret, the user id as associated data); `confirmed_at` is NULL while
-- the enrolment waits for its first code. `last_step` is the last accepted time step, so
-- a code is accepted once.
CREATE TABLE mfa_totp (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0
);

-- Single-use recovery codes, stored only as SHA-256 digests.
CREATE TABLE mfa_recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A first factor that succeeded and waits for the second: the `mfa_token` (digest only),
-- what it may complete (a browser session, or tokens for a client and scope), and how many
-- wrong codes it has seen.
CREATE TABLE mfa_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    client_id TEXT,
    scope TEXT,
    first_factor TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mfa_challenges_user_id_idx ON mfa_challenges (user_id);
CREATE INDEX mfa_challenges_expires_at_idx ON mfa_challenges (expires_at);

-- Passkeys. `credential_id` is the authenticator's id (base64url); `passkey` is
-- webauthn-rs's serialised credential (public key, counter, flags: no secret).
CREATE TABLE webauthn_credentials (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    -- The signature counter last seen; only ever raised (a lower one is a cloned key)
    sign_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX webauthn_credentials_credential_id_key ON webauthn_credentials (credential_id);
CREATE INDEX webauthn_credentials_user_id_idx ON webauthn_credentials (user_id);

-- WebAuthn ceremony state between start and finish, single-use, 5 minutes (Redis holds it
-- instead when configured).
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expires_at_idx ON webauthn_ceremonies (expires_at);

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE refresh_families ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
ALTER TABLE refresh_families ADD COLUMN auth_time BIGINT;
ALTER TABLE oauth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
