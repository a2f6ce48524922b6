package io.sluice.support;

import static org.awaitility.Awaitility.await;

import io.sluice.embedded.FreePort;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * A real Kafka broker in its own process ({@link BrokerCluster}, one node) that serves clients on two secured
 * listeners: {@code SASL_SSL} with SCRAM-SHA-512 users and {@code SSL} requiring a client certificate (mutual TLS),
 * with ACLs enforced ({@link #SUPER_USER} and the client certificate are super users, other users have no ACLs).
 * The certificates are made here with the JDK's keytool (self-signed, SAN 127.0.0.1); the users through the
 * broker's internal plaintext listener, which only the test uses (inter-broker traffic and set-up).
 */
public final class SecuredBroker implements AutoCloseable {
    public static final String STORE_PASSWORD = "store-secret";
    /** The SCRAM user that ACLs let do everything; any other user is authenticated but authorized for nothing. */
    public static final String SUPER_USER = "sluice";

    private final BrokerCluster cluster;
    private final int saslSslPort;
    private final int sslPort;
    private final Path clientTrust;
    private final Path clientKeys;

    private SecuredBroker(BrokerCluster cluster, int saslSslPort, int sslPort, Path clientTrust, Path clientKeys) {
        this.cluster = cluster;
        this.saslSslPort = saslSslPort;
        this.sslPort = sslPort;
        this.clientTrust = clientTrust;
        this.clientKeys = clientKeys;
    }

    public static SecuredBroker start(Path dir) {
        Path tls = dir.resolve("tls");
        Certificates certs = Certificates.make(tls);
        int saslSsl = FreePort.find();
        int ssl = FreePort.find();
        BrokerCluster cluster = BrokerCluster.start(dir.resolve("broker"), 1, p -> {
            String secured = ",SASL_SSL://127.0.0.1:" + saslSsl + ",SSL://127.0.0.1:" + ssl;
            p.put("listeners", p.getProperty("listeners") + secured);
            p.put("advertised.listeners", p.getProperty("advertised.listeners") + secured);
            p.put(
                    "listener.security.protocol.map",
                    p.getProperty("listener.security.protocol.map") + ",SASL_SSL:SASL_SSL,SSL:SSL");
            p.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
            p.put(
                    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            p.put("ssl.keystore.type", "PKCS12");
            p.put("ssl.keystore.location", certs.brokerKeys().toString());
            p.put("ssl.keystore.password", STORE_PASSWORD);
            p.put("ssl.key.password", STORE_PASSWORD);
            p.put("listener.name.ssl.ssl.client.auth", "required");
            p.put("listener.name.ssl.ssl.truststore.type", "PKCS12");
            p.put(
                    "listener.name.ssl.ssl.truststore.location",
                    certs.brokerTrust().toString());
            p.put("listener.name.ssl.ssl.truststore.password", STORE_PASSWORD);
            // ACLs on: the plaintext set-up and broker listeners (ANONYMOUS), SUPER_USER and the client certificate
            // may do anything; any other user may do nothing.
            p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
            p.put("super.users", "User:ANONYMOUS;User:" + SUPER_USER + ";User:CN=sluice");
            return p;
        });
        return new SecuredBroker(cluster, saslSsl, ssl, certs.clientTrust(), certs.clientKeys());
    }

    /** Creates (or changes) a SCRAM-SHA-512 user and waits until the SASL_SSL listener accepts it. */
    public void addUser(String user, String password) throws Exception {
        try (Admin admin = cluster.admin()) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
                            user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            Map<String, Object> config = new java.util.HashMap<>(saslSsl(user, password));
            config.put("bootstrap.servers", saslSslServers());
            try (Admin admin = Admin.create(config)) {
                return !admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty();
            }
        });
    }

    public String saslSslServers() {
        return "127.0.0.1:" + saslSslPort;
    }

    public String sslServers() {
        return "127.0.0.1:" + sslPort;
    }

    /** The client properties of a SCRAM-SHA-512 user over TLS that trusts this broker. */
    public Map<String, String> saslSsl(String user, String password) {
        return Map.of(
                "security.protocol",
                "SASL_SSL",
                "sasl.mechanism",
                "SCRAM-SHA-512",
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                        + password + "\";",
                "ssl.truststore.type",
                "PKCS12",
                "ssl.truststore.location",
                clientTrust.toString(),
                "ssl.truststore.password",
                STORE_PASSWORD);
    }

    /** The client properties of mutual TLS: this broker trusted, the client's certificate presented. */
    public Map<String, String> mutualTls() {
        return Map.of(
                "security.protocol",
                "SSL",
                "ssl.truststore.type",
                "PKCS12",
                "ssl.truststore.location",
                clientTrust.toString(),
                "ssl.truststore.password",
                STORE_PASSWORD,
                "ssl.keystore.type",
                "PKCS12",
                "ssl.keystore.location",
                clientKeys.toString(),
                "ssl.keystore.password",
                STORE_PASSWORD,
                "ssl.key.password",
                STORE_PASSWORD);
    }

    public String log() {
        return cluster.log(1);
    }

    @Override
    public void close() {
        cluster.close();
    }

    /** Self-signed key pairs for the broker and one client, each trusted by the other side. */
    record Certificates(Path brokerKeys, Path brokerTrust, Path clientKeys, Path clientTrust) {
        static Certificates make(Path dir) {
            try {
                java.nio.file.Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Certificates c = new Certificates(
                    dir.resolve("broker.p12"),
                    dir.resolve("broker-trust.p12"),
                    dir.resolve("client.p12"),
                    dir.resolve("client-trust.p12"));
            keyPair(c.brokerKeys, "broker", "CN=localhost", "SAN=ip:127.0.0.1,dns:localhost");
            keyPair(c.clientKeys, "client", "CN=sluice", null);
            trust(c.brokerKeys, "broker", dir.resolve("broker.crt"), c.clientTrust);
            trust(c.clientKeys, "client", dir.resolve("client.crt"), c.brokerTrust);
            return c;
        }

        private static void keyPair(Path store, String alias, String dname, String extension) {
            List<String> args = new ArrayList<>(List.of(
                    "-genkeypair",
                    "-alias",
                    alias,
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-dname",
                    dname,
                    "-validity",
                    "2",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    store.toString(),
                    "-storepass",
                    STORE_PASSWORD,
                    "-keypass",
                    STORE_PASSWORD));
            if (extension != null) args.addAll(List.of("-ext", extension));
            keytool(args);
        }

        /** Exports {@code alias}'s certificate from {@code keys} and imports it into {@code trustStore}. */
        private static void trust(Path keys, String alias, Path certificate, Path trustStore) {
            keytool(List.of(
                    "-exportcert",
                    "-rfc",
                    "-alias",
                    alias,
                    "-keystore",
                    keys.toString(),
                    "-storepass",
                    STORE_PASSWORD,
                    "-file",
                    certificate.toString()));
            keytool(List.of(
                    "-importcert",
                    "-noprompt",
                    "-alias",
                    alias,
                    "-file",
                    certificate.toString(),
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    trustStore.toString(),
                    "-storepass",
                    STORE_PASSWORD));
        }

        private static void keytool(List<String> args) {
            List<String> command = new ArrayList<>();
            command.add(
                    Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
            command.addAll(args);
            try {
                Process process =
                        new ProcessBuilder(command).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                    throw new IllegalStateException("keytool " + args.get(0) + " failed: " + output);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
