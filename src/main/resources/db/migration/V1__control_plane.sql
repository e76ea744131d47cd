-- Control plane schema. Runs unchanged on PostgreSQL and on H2 in PostgreSQL mode.
-- Times are epoch milliseconds (BIGINT) so both stores compare them the same way.

-- One row per ARM resource (resource groups, vaults and everything under them).
-- id_key is the lower-cased ARM id: ARM ids are case-insensitive, but we return them as created (id).
CREATE TABLE resources (
    id_key          VARCHAR(1024) PRIMARY KEY,
    id              VARCHAR(1024) NOT NULL,
    parent_key      VARCHAR(1024),
    type_key        VARCHAR(256)  NOT NULL,
    name            VARCHAR(256)  NOT NULL,
    subscription_id VARCHAR(64)   NOT NULL,
    body            TEXT          NOT NULL,
    etag            VARCHAR(64)   NOT NULL,
    created_at      BIGINT        NOT NULL,
    updated_at      BIGINT        NOT NULL
);
CREATE INDEX resources_parent ON resources (parent_key, type_key);
CREATE INDEX resources_subscription ON resources (subscription_id, type_key);

-- Persistent job queue: an ASR job and the long-running operation that started it.
-- A worker claims a job by compare-and-set on (lease_owner, lease_until); a dead worker's lease expires.
CREATE TABLE jobs (
    id                 VARCHAR(64)   PRIMARY KEY,
    vault_key          VARCHAR(1024) NOT NULL,
    vault_id           VARCHAR(1024) NOT NULL,
    scenario           VARCHAR(128)  NOT NULL,
    friendly_name      VARCHAR(256)  NOT NULL,
    target_id          VARCHAR(1024) NOT NULL,
    target_name        VARCHAR(256)  NOT NULL,
    target_type        VARCHAR(64)   NOT NULL,
    state              VARCHAR(32)   NOT NULL,
    state_description  VARCHAR(64)   NOT NULL,
    input              TEXT          NOT NULL,
    tasks              TEXT          NOT NULL,
    errors             TEXT          NOT NULL,
    result_id          VARCHAR(1024),
    cancel_requested   BOOLEAN       NOT NULL DEFAULT FALSE,
    created_by         VARCHAR(64)   NOT NULL,
    created_at         BIGINT        NOT NULL,
    start_time         BIGINT,
    end_time           BIGINT,
    lease_owner        VARCHAR(64),
    lease_until        BIGINT,
    attempts           INT           NOT NULL DEFAULT 0
);
CREATE INDEX jobs_vault ON jobs (vault_key, created_at);
CREATE INDEX jobs_runnable ON jobs (state, lease_until);

-- Server-wide settings that every API node must share (tenant id, token signing key).
CREATE TABLE settings (
    name  VARCHAR(128) PRIMARY KEY,
    setting_value TEXT NOT NULL
);

-- Service principals that can get tokens (client credentials). Secrets are stored as salted hashes.
CREATE TABLE principals (
    client_id     VARCHAR(64)  PRIMARY KEY,
    object_id     VARCHAR(64)  NOT NULL UNIQUE,
    display_name  VARCHAR(256) NOT NULL,
    secret_hash   VARCHAR(256) NOT NULL,
    created_at    BIGINT       NOT NULL
);

-- RBAC role assignments; scope_key is the lower-cased scope ARM id ("/" for the whole server).
CREATE TABLE role_assignments (
    id_key        VARCHAR(1024) PRIMARY KEY,
    id            VARCHAR(1024) NOT NULL,
    name          VARCHAR(64)   NOT NULL,
    scope_key     VARCHAR(1024) NOT NULL,
    scope         VARCHAR(1024) NOT NULL,
    role_name     VARCHAR(128)  NOT NULL,
    principal_id  VARCHAR(64)   NOT NULL,
    created_at    BIGINT        NOT NULL
);
CREATE INDEX role_assignments_principal ON role_assignments (principal_id);
