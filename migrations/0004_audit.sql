-- The tamper-evident audit log: append-only events, each hashed (SHA-256 over a canonical
-- encoding) together with the previous event's hash. `audit_head` holds the chain's tip;
-- appenders update it first in their transaction, which serializes them, so the chain stays
-- linear and gapless under concurrent writers on both backends.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    ip TEXT,
    request_id TEXT,
    detail TEXT NOT NULL,
    org_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX audit_events_target_idx ON audit_events (target, seq);
CREATE INDEX audit_events_org_id_idx ON audit_events (org_id, seq);
CREATE INDEX audit_events_at_idx ON audit_events (at);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
