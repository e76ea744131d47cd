package dev.secondsite.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsMaterialTest {

    @TempDir
    Path tmp;

    private Path tlsDir() {
        return tmp.resolve("data").resolve("tls");
    }

    @Test
    void createsAllFilesAndSecondLoadReusesTheSameCaAndServerCert() throws Exception {
        TlsMaterial first = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        for (String f : List.of("ca.pem", "ca-key.pem", "server.pem", "server-key.pem")) {
            assertThat(tlsDir().resolve(f)).isRegularFile();
        }
        assertThat(first.caFile()).isEqualTo(tlsDir().toAbsolutePath().resolve("ca.pem"));
        byte[] caPem = Files.readAllBytes(first.caFile());
        byte[] serverPem = Files.readAllBytes(tlsDir().resolve("server.pem"));
        assertThat(new String(caPem)).startsWith("-----BEGIN CERTIFICATE-----");

        TlsMaterial second = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        assertThat(Files.readAllBytes(second.caFile())).isEqualTo(caPem);
        assertThat(second.caCertificate().getEncoded()).isEqualTo(first.caCertificate().getEncoded());
        assertThat(Files.readAllBytes(tlsDir().resolve("server.pem"))).isEqualTo(serverPem);
        assertThat(second.serverCertificateChain()[0].getEncoded())
                .isEqualTo(first.serverCertificateChain()[0].getEncoded());
        // no temp files left behind
        try (var files = Files.list(tlsDir())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder(".lock", "ca.pem", "ca-key.pem", "server.pem", "server-key.pem");
        }
    }

    @Test
    void keyFilesAreOwnerOnlyAndDirectoryIs0700() throws Exception {
        TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tlsDir().resolve("ca-key.pem"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tlsDir().resolve("server-key.pem"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tlsDir())))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tlsDir().resolve("ca.pem"))))
                .isEqualTo("rw-r--r--");
    }

    @Test
    void serverCertIsIssuedByTheCaWithRequestedSans() throws Exception {
        TlsMaterial m = TlsMaterial.loadOrCreate(tlsDir(), List.of("dr.example.test"), List.of("10.1.2.3"));
        List<X509Certificate> chain = TlsMaterial.readCertificates(tlsDir().resolve("server.pem"));
        assertThat(chain).hasSize(2);
        X509Certificate ca = TlsMaterial.readCertificates(m.caFile()).getFirst();
        assertThat(chain.get(1).getEncoded()).isEqualTo(ca.getEncoded());

        X509Certificate server = chain.getFirst();
        server.verify(ca.getPublicKey()); // throws if not signed by the CA
        assertThat(server.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
        assertThat(server.getSigAlgName()).isEqualTo("SHA256withECDSA");
        assertThat(server.getPublicKey().getAlgorithm()).isEqualTo("EC");
        assertThat(server.getBasicConstraints()).isEqualTo(-1);
        assertThat(server.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1"); // serverAuth

        assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=SecondSite Local CA,O=SecondSite");
        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        boolean[] ku = ca.getKeyUsage();
        assertThat(ku[5]).as("keyCertSign").isTrue();
        assertThat(ku[6]).as("cRLSign").isTrue();
        ca.verify(ca.getPublicKey()); // self-signed

        assertThat(sans(server, 7)).contains("127.0.0.1", "10.1.2.3")
                .anyMatch(s -> isAddress(s, "::1"));
        assertThat(sans(server, 2)).contains("localhost", "dr.example.test");
    }

    @Test
    void newNamesReissueTheServerCertFromTheSameCa() throws Exception {
        TlsMaterial first = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        byte[] caPem = Files.readAllBytes(first.caFile());
        byte[] caKey = Files.readAllBytes(tlsDir().resolve("ca-key.pem"));

        TlsMaterial second = TlsMaterial.loadOrCreate(tlsDir(), List.of("other.example.test"), List.of("192.0.2.7"));
        assertThat(Files.readAllBytes(second.caFile())).isEqualTo(caPem);
        assertThat(Files.readAllBytes(tlsDir().resolve("ca-key.pem"))).isEqualTo(caKey);
        X509Certificate server = second.serverCertificateChain()[0];
        assertThat(server.getEncoded()).isNotEqualTo(first.serverCertificateChain()[0].getEncoded());
        server.verify(first.caCertificate().getPublicKey());
        assertThat(sans(server, 2)).contains("other.example.test", "localhost");
        assertThat(sans(server, 7)).contains("192.0.2.7", "127.0.0.1");

        // names already covered: nothing changes
        TlsMaterial third = TlsMaterial.loadOrCreate(tlsDir(), List.of("OTHER.example.test"), List.of());
        assertThat(third.serverCertificateChain()[0].getEncoded()).isEqualTo(server.getEncoded());
    }

    @Test
    void missingOrMismatchedServerFilesAreReissuedButTheCaIsKept() throws Exception {
        TlsMaterial first = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        byte[] caPem = Files.readAllBytes(first.caFile());

        Files.delete(tlsDir().resolve("server.pem"));
        TlsMaterial second = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        assertThat(Files.readAllBytes(second.caFile())).isEqualTo(caPem);
        second.serverCertificateChain()[0].verify(first.caCertificate().getPublicKey());

        // simulate a crash between writing the new key and the new certificate
        Files.writeString(tlsDir().resolve("server-key.pem"), Files.readString(tlsDir().resolve("ca-key.pem")));
        TlsMaterial third = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        assertThat(third.serverCertificateChain()[0].getEncoded())
                .isNotEqualTo(second.serverCertificateChain()[0].getEncoded());
        assertThat(Files.readAllBytes(third.caFile())).isEqualTo(caPem);
        assertHandshakeWorks(third, third.caFile());
    }

    @Test
    void aDamagedCaIsNeverReplaced() throws Exception {
        TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        Files.writeString(tlsDir().resolve("ca.pem"), "garbage\n");
        assertThatThrownBy(() -> TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of()))
                .isInstanceOf(RuntimeException.class);
        assertThat(Files.readString(tlsDir().resolve("ca.pem"))).isEqualTo("garbage\n");
    }

    @Test
    void rejectsNonLiteralIpAddresses() {
        assertThatThrownBy(() -> TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of("not-an-ip")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void realTlsHandshakeWithClientTrustingTheCa() throws Exception {
        TlsMaterial m = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        // reload from disk to make sure the persisted material (not just the in-memory one) works
        TlsMaterial reloaded = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        assertHandshakeWorks(reloaded, m.caFile());
    }

    @Test
    void clientTrustingADifferentCaFailsTheHandshake() throws Exception {
        TlsMaterial server = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        TlsMaterial other = TlsMaterial.loadOrCreate(tmp.resolve("other-tls"), List.of(), List.of());
        assertThat(other.caCertificate().getEncoded()).isNotEqualTo(server.caCertificate().getEncoded());

        SSLContext serverCtx = serverContextFromKeyStore(server);
        try (SSLServerSocket ss = (SSLServerSocket) serverCtx.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            CompletableFuture<Void> serverSide = CompletableFuture.runAsync(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.setSoTimeout(10_000);
                    s.startHandshake();
                    s.getInputStream().read();
                } catch (IOException expected) {
                    // the client aborts the handshake
                }
            });
            SSLContext client = TlsMaterial.clientContextTrusting(other.caFile());
            try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", ss.getLocalPort())) {
                c.setSoTimeout(10_000);
                assertThatThrownBy(c::startHandshake).isInstanceOf(SSLHandshakeException.class);
            }
            serverSide.get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void serverContextHelperAlsoServes() throws Exception {
        TlsMaterial m = TlsMaterial.loadOrCreate(tlsDir(), List.of(), List.of());
        assertThat(m.serverKeyStore().getCertificateChain("server")).hasSize(2);
        assertThat(m.serverKeyStore().getKey("server", m.keyStorePassword())).isNotNull();
        assertHandshakeWorks(m, m.caFile(), m.serverContext());
    }

    // ---------------------------------------------------------------------------------------------

    private static SSLContext serverContextFromKeyStore(TlsMaterial m) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(m.serverKeyStore(), m.keyStorePassword());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    private static void assertHandshakeWorks(TlsMaterial m, Path caFile) throws Exception {
        assertHandshakeWorks(m, caFile, serverContextFromKeyStore(m));
    }

    private static void assertHandshakeWorks(TlsMaterial m, Path caFile, SSLContext serverCtx) throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) serverCtx.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            CompletableFuture<Integer> serverSide = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.setSoTimeout(10_000);
                    InputStream in = s.getInputStream();
                    int b = in.read();
                    OutputStream out = s.getOutputStream();
                    out.write(b + 1);
                    out.flush();
                    return b;
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            SSLContext client = TlsMaterial.clientContextTrusting(caFile);
            try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", ss.getLocalPort())) {
                c.setSoTimeout(10_000);
                SSLParameters p = c.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // also checks the IP SAN
                c.setSSLParameters(p);
                c.startHandshake();
                c.getOutputStream().write(41);
                c.getOutputStream().flush();
                assertThat(c.getInputStream().read()).isEqualTo(42);
                X509Certificate peer = (X509Certificate) c.getSession().getPeerCertificates()[0];
                assertThat(peer.getEncoded()).isEqualTo(m.serverCertificateChain()[0].getEncoded());
            }
            assertThat(serverSide.get(20, TimeUnit.SECONDS)).isEqualTo(41);
        }
    }

    private static List<String> sans(X509Certificate cert, int type) throws Exception {
        List<String> out = new ArrayList<>();
        Collection<List<?>> all = cert.getSubjectAlternativeNames();
        if (all != null) {
            for (List<?> san : all) {
                if ((Integer) san.get(0) == type) {
                    out.add((String) san.get(1));
                }
            }
        }
        return out;
    }

    private static boolean isAddress(String s, String literal) {
        try {
            return InetAddress.getByName(s).equals(InetAddress.getByName(literal));
        } catch (IOException e) {
            return false;
        }
    }
}
