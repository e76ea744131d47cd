/*
 * TLS material for the SecondSite server.
 *
 * Why this exists: SecondSite serves its ARM-style API over HTTPS only, and it runs self-hosted,
 * usually without a public certificate. Rather than asking every client (the CLI, the Azure SDK
 * based tests, browsers, curl) to trust a fresh self-signed server certificate each time, the
 * server creates one long-lived local certificate authority on first start and issues its server
 * certificate from it. Clients then need exactly one file to trust:
 *
 *     <data-dir>/tls/ca.pem
 *
 * (e.g. {@code curl --cacert <data-dir>/tls/ca.pem}, {@code SSL_CERT_FILE}, or
 * {@link TlsMaterial#clientContextTrusting(Path)} for Java clients). The CA is never replaced once
 * written, so that trust survives restarts and server certificate re-issues (new host names, IPs,
 * or expiry renewals).
 */
package dev.secondsite.tls;

import dev.secondsite.io.AtomicFiles;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.security.auth.x500.X500Principal;

import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The server's TLS key material: a self-signed local CA (created once, never replaced) and a
 * server certificate issued by it.
 *
 * <p>Clients need one CA file to trust: {@code <data-dir>/tls/ca.pem} ({@link #caFile()}). On
 * first start {@link #loadOrCreate} creates the CA and the server certificate; later starts load
 * them, and re-issue only the server certificate (from the existing CA) when it is missing,
 * damaged, not issued by that CA, close to expiry, or its subject alternative names do not cover
 * the requested DNS names / IP addresses.
 *
 * <p>Files in the TLS directory (mode 0700):
 * <ul>
 *   <li>{@code ca.pem} &mdash; the CA certificate; the file clients trust (0644)</li>
 *   <li>{@code ca-key.pem} &mdash; the CA private key, PKCS#8 (0600)</li>
 *   <li>{@code server.pem} &mdash; server certificate chain: server cert, then CA cert (0644)</li>
 *   <li>{@code server-key.pem} &mdash; the server private key, PKCS#8 (0600)</li>
 * </ul>
 * Every file is written to a temporary file, synced, then atomically renamed into place, so a
 * crash never leaves a half-written PEM. Concurrent {@code loadOrCreate} calls (threads or
 * processes) on the same directory are serialised with a lock file.
 *
 * <p>Failures surface as {@link UncheckedIOException} (file system) or
 * {@link IllegalStateException} (unreadable / inconsistent material, crypto failures).
 */
public final class TlsMaterial {

    public static final String CA_FILE = "ca.pem";
    public static final String CA_KEY_FILE = "ca-key.pem";
    public static final String SERVER_FILE = "server.pem";
    public static final String SERVER_KEY_FILE = "server-key.pem";
    public static final String KEY_ALIAS = "server";

    static final String CA_SUBJECT = "CN=SecondSite Local CA,O=SecondSite";
    static final String SIG_ALG = "SHA256withECDSA";
    static final int CA_VALIDITY_YEARS = 10;
    static final int SERVER_VALIDITY_YEARS = 2;
    /** Server certificates closer than this to expiry are re-issued at load time. */
    static final Duration RENEW_BEFORE = Duration.ofDays(30);
    /** Back-date notBefore a little to tolerate clock skew between machines. */
    private static final Duration BACKDATE = Duration.ofHours(1);

    private static final List<String> DEFAULT_DNS = List.of("localhost");
    private static final List<String> DEFAULT_IPS = List.of("127.0.0.1", "::1");

    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> KEY_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> CERT_MODE = PosixFilePermissions.fromString("rw-r--r--");

    private static final SecureRandom RANDOM = new SecureRandom();
    /** In-process guard; FileLock alone throws OverlappingFileLockException within one JVM. */
    private static final ReentrantLock PROCESS_LOCK = new ReentrantLock();
    private static final System.Logger LOG = System.getLogger(TlsMaterial.class.getName());

    private final Path tlsDir;
    private final X509Certificate caCert;
    private final X509Certificate[] serverChain;
    private final PrivateKey serverKey;
    private final char[] keyStorePassword;
    private volatile KeyStore keyStore;

    private TlsMaterial(Path tlsDir, X509Certificate caCert, X509Certificate serverCert, PrivateKey serverKey) {
        this.tlsDir = tlsDir;
        this.caCert = caCert;
        this.serverChain = new X509Certificate[] {serverCert, caCert};
        this.serverKey = serverKey;
        byte[] pw = new byte[24];
        RANDOM.nextBytes(pw);
        this.keyStorePassword = Base64.getUrlEncoder().withoutPadding().encodeToString(pw).toCharArray();
    }

    // ------------------------------------------------------------------------------------------
    // Public API
    // ------------------------------------------------------------------------------------------

    /**
     * Loads the TLS material from {@code tlsDir}, creating whatever is missing.
     *
     * @param tlsDir      directory holding the PEM files; created with mode 0700 if missing
     * @param dnsNames    DNS names the server certificate must cover ("localhost" is always added;
     *                    IP literals given here are treated as IP addresses)
     * @param ipAddresses IP address literals the certificate must cover ("127.0.0.1" and "::1"
     *                    are always added)
     */
    public static TlsMaterial loadOrCreate(Path tlsDir, List<String> dnsNames, List<String> ipAddresses) {
        Path dir = tlsDir.toAbsolutePath().normalize();
        Names wanted = Names.of(dnsNames, ipAddresses);
        try {
            createDirectory(dir);
            PROCESS_LOCK.lock();
            try (FileChannel lockChannel = openLockFile(dir.resolve(".lock"));
                 FileLock ignored = lockChannel.lock()) {
                return loadOrCreateLocked(dir, wanted);
            } finally {
                PROCESS_LOCK.unlock();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("TLS material in " + dir + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("TLS material in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * A PKCS#12 key store (in memory only) holding the server key under alias {@value #KEY_ALIAS}
     * with its chain (server certificate, CA certificate), protected by {@link #keyStorePassword()}.
     */
    public KeyStore serverKeyStore() {
        KeyStore ks = keyStore;
        if (ks == null) {
            try {
                ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry(KEY_ALIAS, serverKey, keyStorePassword, serverChain.clone());
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException("cannot build server key store: " + e.getMessage(), e);
            }
            keyStore = ks;
        }
        return ks;
    }

    /** Password of {@link #serverKeyStore()} and of its key entry (random per instance; a copy). */
    public char[] keyStorePassword() {
        return keyStorePassword.clone();
    }

    /** The CA certificate file clients should trust: {@code <tlsDir>/ca.pem}. */
    public Path caFile() {
        return tlsDir.resolve(CA_FILE);
    }

    /** The TLS directory. */
    public Path tlsDir() {
        return tlsDir;
    }

    /** The local CA certificate. */
    public X509Certificate caCertificate() {
        return caCert;
    }

    /** The server certificate chain: server certificate, then CA certificate (a copy). */
    public X509Certificate[] serverCertificateChain() {
        return serverChain.clone();
    }

    /** A server-side {@link SSLContext} (protocol "TLS") using {@link #serverKeyStore()}. */
    public SSLContext serverContext() {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(serverKeyStore(), keyStorePassword);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build server SSL context: " + e.getMessage(), e);
        }
    }

    /**
     * An {@link SSLContext} (protocol "TLS") whose trust manager trusts exactly the CA
     * certificate(s) in {@code caPem} and nothing else (not the JDK's default trust store).
     * Host name verification is up to the caller (e.g. {@code java.net.http.HttpClient} does it,
     * or set {@code SSLParameters.setEndpointIdentificationAlgorithm("HTTPS")}).
     */
    public static SSLContext clientContextTrusting(Path caPem) {
        try {
            List<X509Certificate> cas = readCertificates(caPem);
            if (cas.isEmpty()) {
                throw new IllegalStateException("no certificate found in " + caPem);
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                trust.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read CA certificate " + caPem + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build SSL context trusting " + caPem + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Load / create logic (runs under the directory lock)
    // ------------------------------------------------------------------------------------------

    private static TlsMaterial loadOrCreateLocked(Path dir, Names wanted)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        Path caFile = dir.resolve(CA_FILE);
        Path caKeyFile = dir.resolve(CA_KEY_FILE);
        Path serverFile = dir.resolve(SERVER_FILE);
        Path serverKeyFile = dir.resolve(SERVER_KEY_FILE);

        X509Certificate caCert;
        PrivateKey caKey = null;
        if (Files.exists(caFile)) {
            // Existing CA: load it, never replace it (clients may already trust it).
            List<X509Certificate> certs = readCertificates(caFile);
            if (certs.isEmpty()) {
                throw new IllegalStateException(caFile + " contains no certificate; refusing to replace an"
                        + " existing CA (move the tls directory away to start over)");
            }
            caCert = certs.getFirst();
            if (Files.exists(caKeyFile)) {
                caKey = readPrivateKey(caKeyFile);
                if (!keyMatches(caKey, caCert.getPublicKey())) {
                    throw new IllegalStateException(caKeyFile + " does not belong to the certificate in " + caFile);
                }
            }
        } else {
            // No CA certificate yet. The key is written before the certificate, so a ca-key.pem without
            // ca.pem is the leftover of an interrupted first start that no client can trust yet.
            KeyPair ca = newKeyPair();
            caCert = createCaCertificate(ca);
            writeAtomically(caKeyFile, privateKeyPem(ca.getPrivate()), KEY_MODE);
            writeAtomically(caFile, certificatesPem(List.of(caCert)), CERT_MODE);
            caKey = ca.getPrivate();
            LOG.log(System.Logger.Level.INFO, "created local CA " + caFile + " (clients trust this file)");
        }

        // Existing server certificate still good?
        String reason = null;
        if (Files.exists(serverFile) && Files.exists(serverKeyFile)) {
            try {
                List<X509Certificate> chain = readCertificates(serverFile);
                PrivateKey key = readPrivateKey(serverKeyFile);
                reason = unusableReason(chain, key, caCert, wanted);
                if (reason == null) {
                    return new TlsMaterial(dir, caCert, chain.getFirst(), key);
                }
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                reason = "unreadable (" + e.getMessage() + ")";
            }
        } else {
            reason = "missing";
        }

        if (caKey == null) {
            throw new IllegalStateException("server certificate " + serverFile + " is " + reason
                    + ", but the CA key " + caKeyFile + " is missing, so a new one cannot be issued");
        }
        KeyPair server = newKeyPair();
        X509Certificate serverCert = createServerCertificate(server, caCert, caKey, wanted);
        // Key first, then certificate: after a crash in between, the key no longer matches the old
        // certificate and the next start re-issues.
        writeAtomically(serverKeyFile, privateKeyPem(server.getPrivate()), KEY_MODE);
        writeAtomically(serverFile, certificatesPem(List.of(serverCert, caCert)), CERT_MODE);
        LOG.log(System.Logger.Level.INFO, "issued server certificate " + serverFile + " (previous one "
                + reason + ") for DNS " + wanted.dns + " IP " + wanted.ipStrings());
        return new TlsMaterial(dir, caCert, serverCert, server.getPrivate());
    }

    /** Why an existing server certificate can't be reused, or null if it can. */
    private static String unusableReason(List<X509Certificate> chain, PrivateKey key, X509Certificate caCert,
                                         Names wanted) throws GeneralSecurityException {
        if (chain.isEmpty()) {
            return "empty";
        }
        X509Certificate cert = chain.getFirst();
        try {
            cert.verify(caCert.getPublicKey());
        } catch (GeneralSecurityException e) {
            return "not issued by the current CA";
        }
        if (!keyMatches(key, cert.getPublicKey())) {
            return "not matching its key";
        }
        Instant now = Instant.now();
        if (cert.getNotBefore().toInstant().isAfter(now)) {
            return "not yet valid";
        }
        if (cert.getNotAfter().toInstant().isBefore(now.plus(RENEW_BEFORE))) {
            return "expiring on " + cert.getNotAfter().toInstant();
        }
        Names have = Names.fromCertificate(cert);
        if (!have.covers(wanted)) {
            return "not covering the requested names";
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------
    // Certificate creation
    // ------------------------------------------------------------------------------------------

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return kpg.generateKeyPair();
    }

    private static X509Certificate createCaCertificate(KeyPair ca)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        X500Name subject = x500(CA_SUBJECT);
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, randomSerial(),
                Date.from(now.minus(BACKDATE).toInstant()),
                Date.from(now.plusYears(CA_VALIDITY_YEARS).toInstant()),
                subject, ca.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(ca.getPublic()));
        return sign(b, ca.getPrivate());
    }

    private static X509Certificate createServerCertificate(KeyPair server, X509Certificate caCert, PrivateKey caKey,
                                                           Names names)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        Date notAfter = Date.from(now.plusYears(SERVER_VALIDITY_YEARS).toInstant());
        if (notAfter.after(caCert.getNotAfter())) {
            notAfter = caCert.getNotAfter(); // never outlive the issuer
        }
        List<GeneralName> sans = new ArrayList<>();
        for (String dns : names.dns) {
            sans.add(new GeneralName(GeneralName.dNSName, dns));
        }
        for (byte[] ip : names.ips) {
            sans.add(new GeneralName(GeneralName.iPAddress, new DEROctetString(ip)));
        }
        X500Name subject = x500("CN=" + names.dns.iterator().next() + ",O=SecondSite");
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caCert, randomSerial(),
                Date.from(now.minus(BACKDATE).toInstant()), notAfter, subject, server.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
                .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(sans.toArray(GeneralName[]::new)))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(server.getPublic()))
                .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert));
        return sign(b, caKey);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
            throws OperatorCreationException, GeneralSecurityException {
        ContentSigner signer = new JcaContentSignerBuilder(SIG_ALG).setSecureRandom(RANDOM).build(key);
        X509CertificateHolder holder = b.build(signer);
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    /**
     * Parses an RFC 4514 name the way the JDK (and OpenSSL's output) reads it: the right-most RDN is
     * the most significant, so "CN=x,O=y" is encoded as O=y then CN=x.
     */
    private static X500Name x500(String rfc4514) {
        return X500Name.getInstance(new X500Principal(rfc4514).getEncoded());
    }

    /** Random positive serial of at most 16 octets (RFC 5280 allows up to 20). */
    private static BigInteger randomSerial() {
        return new BigInteger(127, RANDOM).setBit(120);
    }

    /** True if {@code key} is the private half of {@code pub} (sign/verify round trip). */
    private static boolean keyMatches(PrivateKey key, PublicKey pub) throws GeneralSecurityException {
        if (!key.getAlgorithm().equals(pub.getAlgorithm())) {
            return false;
        }
        byte[] data = new byte[32];
        RANDOM.nextBytes(data);
        Signature s = Signature.getInstance(SIG_ALG);
        s.initSign(key);
        s.update(data);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(SIG_ALG);
        v.initVerify(pub);
        v.update(data);
        return v.verify(sig);
    }

    // ------------------------------------------------------------------------------------------
    // Subject alternative names
    // ------------------------------------------------------------------------------------------

    /** Normalised DNS names (lower case) and IP addresses (raw bytes). */
    private record Names(Set<String> dns, List<byte[]> ips) {

        static Names of(List<String> dnsNames, List<String> ipAddresses) {
            Set<String> dns = new LinkedHashSet<>();
            List<byte[]> ips = new ArrayList<>();
            for (String d : DEFAULT_DNS) {
                dns.add(d);
            }
            for (String ip : DEFAULT_IPS) {
                addIp(ips, parseIp(ip));
            }
            for (String d : dnsNames == null ? List.<String>of() : dnsNames) {
                String name = d == null ? "" : d.strip();
                if (name.isEmpty()) {
                    continue;
                }
                byte[] asIp = tryParseIp(name);
                if (asIp != null) {
                    addIp(ips, asIp);
                } else {
                    dns.add(validDnsName(name));
                }
            }
            for (String ip : ipAddresses == null ? List.<String>of() : ipAddresses) {
                String s = ip == null ? "" : ip.strip();
                if (!s.isEmpty()) {
                    addIp(ips, parseIp(s));
                }
            }
            return new Names(dns, ips);
        }

        static Names fromCertificate(X509Certificate cert) throws GeneralSecurityException {
            Set<String> dns = new LinkedHashSet<>();
            List<byte[]> ips = new ArrayList<>();
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    int type = (Integer) san.get(0);
                    Object value = san.get(1);
                    if (type == GeneralName.dNSName && value instanceof String s) {
                        dns.add(s.toLowerCase(Locale.ROOT));
                    } else if (type == GeneralName.iPAddress && value instanceof String s) {
                        byte[] ip = tryParseIp(s);
                        if (ip != null) {
                            addIp(ips, ip);
                        }
                    }
                }
            }
            return new Names(dns, ips);
        }

        boolean covers(Names wanted) {
            if (!dns.containsAll(wanted.dns)) {
                return false;
            }
            for (byte[] ip : wanted.ips) {
                if (ips.stream().noneMatch(have -> Arrays.equals(have, ip))) {
                    return false;
                }
            }
            return true;
        }

        List<String> ipStrings() {
            List<String> out = new ArrayList<>();
            for (byte[] ip : ips) {
                try {
                    out.add(InetAddress.getByAddress(ip).getHostAddress());
                } catch (IOException e) {
                    out.add(Arrays.toString(ip));
                }
            }
            return out;
        }

        private static void addIp(List<byte[]> ips, byte[] ip) {
            if (ips.stream().noneMatch(have -> Arrays.equals(have, ip))) {
                ips.add(ip);
            }
        }

        private static byte[] parseIp(String s) {
            byte[] ip = tryParseIp(s);
            if (ip == null) {
                throw new IllegalArgumentException("not an IP address literal: " + s);
            }
            return ip;
        }

        /** Parses an IPv4/IPv6 literal without any DNS lookup; null if it is not one. */
        private static byte[] tryParseIp(String s) {
            String lit = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
            try {
                return InetAddress.ofLiteral(lit).getAddress();
            } catch (IllegalArgumentException e) {
                return null;
            }
        }

        private static String validDnsName(String name) {
            String n = name.toLowerCase(Locale.ROOT);
            if (n.endsWith(".")) {
                n = n.substring(0, n.length() - 1);
            }
            if (n.isEmpty() || n.length() > 253 || !n.matches("(\\*\\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
                    + "(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*")) {
                throw new IllegalArgumentException("not a valid DNS name: " + name);
            }
            return n;
        }
    }

    // ------------------------------------------------------------------------------------------
    // PEM and file I/O
    // ------------------------------------------------------------------------------------------

    static List<X509Certificate> readCertificates(Path pem) throws IOException, GeneralSecurityException {
        byte[] bytes = Files.readAllBytes(pem);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> out = new ArrayList<>();
        for (Certificate c : cf.generateCertificates(new ByteArrayInputStream(bytes))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    private static PrivateKey readPrivateKey(Path pem) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof PrivateKeyInfo pki) {
                    return conv.getPrivateKey(pki);
                }
                if (o instanceof PEMKeyPair kp) {
                    return conv.getKeyPair(kp).getPrivate();
                }
            }
        }
        throw new IOException("no unencrypted private key found in " + pem);
    }

    private static byte[] privateKeyPem(PrivateKey key) throws IOException {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(new JcaPKCS8Generator(key, null));
        }
        return sw.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] certificatesPem(List<X509Certificate> certs) throws IOException {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            for (X509Certificate c : certs) {
                w.writeObject(c);
            }
        }
        return sw.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static void createDirectory(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            if (posix(dir)) {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
                Files.setPosixFilePermissions(dir, DIR_MODE); // not subject to umask
            } else {
                Files.createDirectory(dir);
            }
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    private static FileChannel openLockFile(Path lock) throws IOException {
        Set<StandardOpenOption> opts = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        return posix(lock)
                ? FileChannel.open(lock, opts, PosixFilePermissions.asFileAttribute(KEY_MODE))
                : FileChannel.open(lock, opts);
    }

    private static void writeAtomically(Path target, byte[] content, Set<PosixFilePermission> mode)
            throws IOException {
        AtomicFiles.write(target, content, mode);
    }
}
