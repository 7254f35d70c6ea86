-- OpenID Connect provider: per-client ID-token settings, the RS256 ID-token signing keys,
-- authorization codes (single-use, stored only as SHA-256 digests) and remembered consent.
ALTER TABLE oauth_clients ADD COLUMN first_party BIGINT NOT NULL DEFAULT 0;
ALTER TABLE oauth_clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256';

-- Same shape as signing_keys, kept apart so an ID-token key can never sign or verify an
-- access token (and the access-token rotation never retires it).
CREATE TABLE id_token_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    sealed_private TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    is_current BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    nonce TEXT,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    -- The refresh family issued from the code, revoked if the code is presented again
    family_id TEXT
);
CREATE INDEX oauth_codes_expires_at_idx ON oauth_codes (expires_at);

CREATE TABLE oauth_consents (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
