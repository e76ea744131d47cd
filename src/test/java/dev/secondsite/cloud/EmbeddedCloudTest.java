package dev.secondsite.cloud;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import dev.secondsite.testing.ArmClient;
import dev.secondsite.testing.TestServer;

/** Local-cloud API tests sharing one server per class (embedded store), an admin ARM client and the cloud helpers. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class EmbeddedCloudTest {
    TestServer server;
    ArmClient api;
    CloudApi cloud;

    @BeforeAll
    void startServer() throws Exception {
        server = TestServer.start(TestServer.Store.EMBEDDED);
        api = ArmClient.of(server).asAdmin();
        cloud = new CloudApi(api);
    }

    @AfterAll
    void stopServer() throws Exception {
        server.close();
    }
}
