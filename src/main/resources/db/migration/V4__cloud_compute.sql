-- Compute of the local cloud (dev.secondsite.cloud.compute). VMs, disks and snapshots themselves are rows of
-- the resources table; these tables hold what is not an ARM resource.

-- vCPU quota limits raised or lowered through Microsoft.Quota; a missing row means the default limit.
-- quota_name is a VM family ("standardDSv3Family") or "cores" (total regional vCPUs).
CREATE TABLE compute_quota_limits (
    subscription_id VARCHAR(64)  NOT NULL,
    location        VARCHAR(64)  NOT NULL,
    quota_name      VARCHAR(128) NOT NULL,
    cores_limit     BIGINT       NOT NULL,
    updated_at      BIGINT       NOT NULL,
    PRIMARY KEY (subscription_id, location, quota_name)
);

-- One row per (subscription, region): compute changes in a region lock it (SELECT ... FOR UPDATE), so a
-- quota check and the VM it admits are atomic across API nodes.
CREATE TABLE compute_locks (
    lock_key VARCHAR(256) PRIMARY KEY
);

-- Access grants of managed disks and snapshots (beginGetAccess): the SAS URL names the grant and carries
-- a signature over it; endAccess deletes the disk's grants, which revokes every URL handed out.
CREATE TABLE compute_disk_access (
    access_id    VARCHAR(64)   PRIMARY KEY,
    resource_key VARCHAR(1024) NOT NULL,
    access       VARCHAR(16)   NOT NULL,
    expires_at   BIGINT        NOT NULL,
    created_at   BIGINT        NOT NULL
);
CREATE INDEX compute_disk_access_resource ON compute_disk_access (resource_key);

-- Long-running compute operations (VM power actions, beginGetAccess, endAccess): their status and output
-- for the Azure-AsyncOperation and Location URLs.
CREATE TABLE compute_operations (
    id           VARCHAR(64)   PRIMARY KEY,
    resource_key VARCHAR(1024) NOT NULL,
    status       VARCHAR(32)   NOT NULL,
    output       TEXT,
    start_time   BIGINT        NOT NULL,
    end_time     BIGINT
);
