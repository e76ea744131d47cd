-- The local cloud's storage accounts and networks: what must hold across the whole server and so cannot
-- live in one resource's JSON body. Runs unchanged on PostgreSQL and on H2 in PostgreSQL mode.
--
-- Both tables hang off rows of `resources` with ON DELETE CASCADE: deleting a storage account, a NIC, a
-- subnet or anything above them (virtual network, resource group) through ResourceStore frees its names,
-- keys and IP addresses in the same transaction, with no clean-up code anywhere else.

-- Storage account names are global (they are DNS names): one row per account claims its name.
-- The account's two access keys live here too, so no resource body ever carries a secret.
CREATE TABLE storage_accounts (
    name_key     VARCHAR(24)   PRIMARY KEY,
    account_key  VARCHAR(1024) NOT NULL UNIQUE REFERENCES resources (id_key) ON DELETE CASCADE,
    key1         VARCHAR(128)  NOT NULL,
    key1_created BIGINT        NOT NULL,
    key2         VARCHAR(128)  NOT NULL,
    key2_created BIGINT        NOT NULL
);

-- One row per private IPv4 address in use in a subnet. The primary key makes a double allocation
-- impossible whatever the application does; owner_key is the resource holding the address (a network
-- interface, later a private endpoint), ip_configuration the name of its IP configuration.
-- address is the IPv4 address as an unsigned 32-bit number.
CREATE TABLE ip_allocations (
    subnet_key       VARCHAR(1024) NOT NULL REFERENCES resources (id_key) ON DELETE CASCADE,
    address          BIGINT        NOT NULL,
    owner_key        VARCHAR(1024) NOT NULL REFERENCES resources (id_key) ON DELETE CASCADE,
    owner_id         VARCHAR(1024) NOT NULL,
    ip_configuration VARCHAR(256)  NOT NULL,
    allocated_at     BIGINT        NOT NULL,
    PRIMARY KEY (subnet_key, address)
);
CREATE UNIQUE INDEX ip_allocations_owner ON ip_allocations (owner_key, ip_configuration);
