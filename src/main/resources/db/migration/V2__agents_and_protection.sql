-- Agents, protected items and protected disks (the replication data plane's control side).
-- Runs unchanged on PostgreSQL and on H2 in PostgreSQL mode. Times are epoch milliseconds (BIGINT).
--
-- What is NOT here, on purpose: which segments are stored and which are applied. The cache storage
-- (segment blobs) and the recovery store (each replica disk's committed state) are the truth for those;
-- the *_sequence columns below are mirrors for display, rebuilt from the stores at every start.

-- Mobility agents registered with a fabric by a registration key. The secret is a salted SHA-256 hash.
-- One agent per (fabric, machine): registering again re-issues the secret for the same id.
CREATE TABLE agents (
    id              VARCHAR(64)   PRIMARY KEY,
    secret_hash     VARCHAR(256)  NOT NULL,
    vault_key       VARCHAR(1024) NOT NULL,
    vault_id        VARCHAR(1024) NOT NULL,
    fabric_key      VARCHAR(1024) NOT NULL,
    fabric_id       VARCHAR(1024) NOT NULL,
    container_id    VARCHAR(1024) NOT NULL,
    machine_key     VARCHAR(256)  NOT NULL,
    machine_name    VARCHAR(256)  NOT NULL,
    os_type         VARCHAR(64)   NOT NULL,
    agent_version   VARCHAR(64)   NOT NULL,
    disks           TEXT          NOT NULL,
    registered_at   BIGINT        NOT NULL,
    last_heartbeat  BIGINT,
    last_agent_time BIGINT
);
CREATE UNIQUE INDEX agents_machine ON agents (fabric_key, machine_key);
CREATE INDEX agents_vault ON agents (vault_key);

-- Replication of one machine (an ASR replicationProtectedItem). protection_state moves
-- Enabling -> InitialReplication -> Protected (-> Resynchronizing -> Protected) -> Disabling.
CREATE TABLE protected_items (
    item_key         VARCHAR(1024) PRIMARY KEY,
    item_id          VARCHAR(1024) NOT NULL,
    vault_key        VARCHAR(1024) NOT NULL,
    agent_id         VARCHAR(64)   NOT NULL,
    policy_id        VARCHAR(1024) NOT NULL,
    enable_job_id    VARCHAR(64)   NOT NULL,
    protection_state VARCHAR(64)   NOT NULL,
    churn_mode       VARCHAR(16)   NOT NULL,
    created_at       BIGINT        NOT NULL,
    updated_at       BIGINT        NOT NULL
);
CREATE INDEX protected_items_vault ON protected_items (vault_key);
CREATE INDEX protected_items_agent ON protected_items (agent_id);

-- One replicated disk of a protected item; disk_id names its segments and its replica in the recovery store.
CREATE TABLE protected_disks (
    disk_id                VARCHAR(36)      PRIMARY KEY,
    item_key               VARCHAR(1024)    NOT NULL,
    agent_id               VARCHAR(64)      NOT NULL,
    disk_name              VARCHAR(256)     NOT NULL,
    capacity_bytes         BIGINT           NOT NULL,
    chunk_bytes            INT              NOT NULL,
    replicating            BOOLEAN          NOT NULL,
    next_sequence          BIGINT           NOT NULL,
    last_applied_sequence  BIGINT           NOT NULL,
    resync_required        BOOLEAN          NOT NULL,
    resync_id              VARCHAR(64),
    resync_full            BOOLEAN          NOT NULL,
    resync_started_at      BIGINT,
    disk_resized           BOOLEAN          NOT NULL,
    health_error           TEXT,
    bytes_uploaded         BIGINT           NOT NULL,
    bytes_applied          BIGINT           NOT NULL,
    segments_applied       BIGINT           NOT NULL,
    pending_upload_bytes   BIGINT           NOT NULL,
    churn_bytes_per_second DOUBLE PRECISION NOT NULL,
    last_point_at          BIGINT,
    last_app_point_at      BIGINT,
    last_upload_at         BIGINT,
    created_at             BIGINT           NOT NULL
);
CREATE UNIQUE INDEX protected_disks_name ON protected_disks (item_key, disk_name);
CREATE INDEX protected_disks_agent ON protected_disks (agent_id);
