-- What the agent is doing with each disk (heartbeat stats: activity InitialReplication | ChangeDetection |
-- ChangeTracking | Resync | FullResend | Idle, and how far its pass has read the disk), so an item shows
-- resyncProgressPercentage / initial replication progress as ASR does.
ALTER TABLE protected_disks ADD COLUMN agent_activity VARCHAR(32);
ALTER TABLE protected_disks ADD COLUMN agent_progress_percent DOUBLE PRECISION;
