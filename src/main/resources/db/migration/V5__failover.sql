-- Failover orchestration (issue 4). A protected item now also records where it runs (activeLocation
-- Primary | Recovery), its test-failover state, the scenario in progress, and a JSON document of what its
-- failovers built: the recovery point used and the ids of the VM, disks, NICs and networks each created,
-- so cleanup, commit, rollback and reprotect find them again after a restart.
ALTER TABLE protected_items ADD COLUMN active_location VARCHAR(16) DEFAULT 'Primary' NOT NULL;
ALTER TABLE protected_items ADD COLUMN test_failover_state VARCHAR(32) DEFAULT 'None' NOT NULL;
ALTER TABLE protected_items ADD COLUMN failover_doc TEXT DEFAULT '{}' NOT NULL;

-- The Azure region of a machine that is itself an Azure VM (seed 001: VMs moved between Government and
-- public regions are replicated as physical servers); NULL for machines outside Azure.
ALTER TABLE agents ADD COLUMN azure_region VARCHAR(64);

-- What the server asks of an agent beyond replicating (agent-protocol §3 and "Failback"): one directive at a
-- time, kind 'shutdown' (before a failover) or 'failback' (write a recovery point back onto the machine's disks),
-- its JSON request as the heartbeat answer carries it, and the agent's report: Completed | Failed, with a message.
ALTER TABLE agents ADD COLUMN directive_kind VARCHAR(16);
ALTER TABLE agents ADD COLUMN directive TEXT;
ALTER TABLE agents ADD COLUMN directive_status VARCHAR(16);
ALTER TABLE agents ADD COLUMN directive_message VARCHAR(1024);

-- A failed or cancelled job whose workflow undoes its work (a failover's rollback) records that the rollback ran,
-- so a server killed between "job failed" and "rollback done" runs it at the next start.
ALTER TABLE jobs ADD COLUMN rolled_back BOOLEAN DEFAULT FALSE NOT NULL;

-- Site Recovery events (replicationEvents): RPO threshold alerts and their all-clear, per protected item.
CREATE TABLE replication_events (
    id          VARCHAR(64)   PRIMARY KEY,
    vault_key   VARCHAR(1024) NOT NULL,
    item_key    VARCHAR(1024),
    event_code  VARCHAR(64)   NOT NULL,
    severity    VARCHAR(16)   NOT NULL,
    created_at  BIGINT        NOT NULL,
    body        TEXT          NOT NULL
);
CREATE INDEX replication_events_vault ON replication_events (vault_key, created_at);
