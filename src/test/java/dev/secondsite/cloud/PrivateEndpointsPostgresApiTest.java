package dev.secondsite.cloud;

import dev.secondsite.testing.TestServer;

/**
 * {@link PrivateEndpointsApiTest} on PostgreSQL: address allocation and the vault's connection list take row
 * locks (SELECT … FOR UPDATE), which the embedded store and PostgreSQL implement differently.
 */
class PrivateEndpointsPostgresApiTest extends PrivateEndpointsApiTest {
    @Override
    TestServer.Store store() {
        return TestServer.Store.POSTGRES;
    }
}
