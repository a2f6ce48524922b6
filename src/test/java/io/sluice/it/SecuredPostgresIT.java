package io.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.cli.SluiceCli;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Configuration;
import io.sluice.runtime.Sluice;
import io.sluice.support.Http;
import io.sluice.support.TestKafka;
import io.sluice.support.TlsPostgres;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sluice against a real PostgreSQL server that accepts only TLS with a password (scram-sha-256), for the queue
 * database and a warehouse alike, both with {@code sslmode=verify-full} and the test CA as {@code sslrootcert}:
 * nothing but the JDBC URLs and passwords tells Sluice how to connect, and events must reach the warehouse over
 * TLS. A wrong password, a CA that did not sign the server's certificate, or a host the certificate does not name
 * stop startup at once with one configuration error naming the key — no pool retrying the refusal until a timeout
 * (HikariCP's initialisation would retry for 30 s).
 */
class SecuredPostgresIT {
    private static final String PASSWORD = "pg-" + UUID.randomUUID();
    /** Well below the 30 s the queue pool's initialisation retries a refused connection. */
    private static final Duration PROMPTLY = Duration.ofSeconds(15);

    @TempDir
    static Path dir;

    static TlsPostgres server;

    @BeforeAll
    static void startServer() {
        server = TlsPostgres.start(dir.resolve("pg"), PASSWORD);
        server.createDatabase("queue");
        server.createDatabase("warehouse");
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.close();
    }

    @Test
    void eventsReachAWarehouseOverVerifiedTlsWithTheQueueOnTlsToo() throws Exception {
        String yaml = yaml(server.jdbcUrl("queue"), PASSWORD, server.jdbcUrl("warehouse"), PASSWORD);
        SluiceConfig config = Configuration.check(new ConfigLoader(Map.of()).loadYaml(yaml));
        try (Sluice sluice = new Sluice(config, EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC())) {
            sluice.start();
            StringBuilder batch = new StringBuilder("{\"batch\":[");
            for (int i = 0; i < 30; i++) {
                if (i > 0) batch.append(',');
                batch.append("{\"type\":\"track\",\"event\":\"Encrypted\",\"userId\":\"u")
                        .append(i % 4)
                        .append("\",\"messageId\":\"m")
                        .append(i)
                        .append("\"}");
            }
            batch.append("]}");
            var response = Http.post(
                    sluice.collectorUrl() + "/v1/batch",
                    batch.toString(),
                    "Authorization",
                    Http.basic("wk_tls_0123456789"),
                    "Content-Type",
                    "application/json");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> tracks() == 30);

            long[] queue = server.sessions("queue");
            long[] warehouse = server.sessions("warehouse");
            assertThat(queue[0]).as("Sluice's queue-database sessions").isPositive();
            assertThat(queue[1])
                    .as("encrypted queue sessions, as the server sees them")
                    .isEqualTo(queue[0]);
            assertThat(warehouse[0]).as("Sluice's warehouse sessions").isPositive();
            assertThat(warehouse[1]).as("encrypted warehouse sessions").isEqualTo(warehouse[0]);
            assertThat(Http.get(sluice.adminUrl() + "/ready").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aWrongQueuePasswordStopsStartupNamingPostgresPassword() throws Exception {
        String wrong = "wrong-" + UUID.randomUUID();
        refused(
                yaml(server.jdbcUrl("queue"), wrong, server.jdbcUrl("warehouse"), PASSWORD),
                "Invalid configuration: postgres.password: PostgreSQL refused the password of user 'sluice'",
                wrong);
    }

    @Test
    void aCaThatDidNotSignTheServerStopsStartupNamingPostgresUrl() throws Exception {
        refused(
                yaml(
                        server.jdbcUrl("127.0.0.1", "queue", server.otherCa()),
                        PASSWORD,
                        server.jdbcUrl("warehouse"),
                        PASSWORD),
                "Invalid configuration: postgres.url: the TLS connection to PostgreSQL failed",
                PASSWORD);
    }

    @Test
    void aHostTheCertificateDoesNotNameStopsStartupNamingPostgresUrl() throws Exception {
        // The certificate names 127.0.0.1 only; localhost is the same server under a name verify-full must refuse.
        refused(
                yaml(
                        server.jdbcUrl("localhost", "queue", server.ca()),
                        PASSWORD,
                        server.jdbcUrl("warehouse"),
                        PASSWORD),
                "Invalid configuration: postgres.url: the TLS connection to PostgreSQL failed",
                PASSWORD);
    }

    @Test
    void aPlainConnectionToATlsOnlyServerStopsStartupNamingTheUser() throws Exception {
        String plain = "jdbc:postgresql://127.0.0.1:" + server.port() + "/queue?sslmode=disable";
        refused(
                yaml(plain, PASSWORD, server.jdbcUrl("warehouse"), PASSWORD),
                "Invalid configuration: postgres.user: PostgreSQL does not let user 'sluice' connect",
                PASSWORD);
    }

    @Test
    void aWrongWarehousePasswordOrCaStopsStartupNamingTheDestinationsKey() throws Exception {
        String wrong = "wrong-" + UUID.randomUUID();
        refused(
                yaml(server.jdbcUrl("queue"), PASSWORD, server.jdbcUrl("warehouse"), wrong),
                "Invalid configuration: destination 'tls-warehouse' password: PostgreSQL refused the password",
                wrong);
        refused(
                yaml(
                        server.jdbcUrl("queue"),
                        PASSWORD,
                        server.jdbcUrl("127.0.0.1", "warehouse", server.otherCa()),
                        PASSWORD),
                "Invalid configuration: destination 'tls-warehouse' url: the TLS connection to PostgreSQL failed",
                PASSWORD);
    }

    /**
     * Starting every role fails promptly with a ConfigException starting with {@code expected}; the CLI prints it as
     * its one "Invalid configuration" line, exits 2, without a stack trace or the secret.
     */
    private static void refused(String yaml, String expected, String secret) throws Exception {
        SluiceConfig config = Configuration.check(new ConfigLoader(Map.of()).loadYaml(yaml));
        long started = System.nanoTime();
        try (Sluice sluice = new Sluice(config, EnumSet.allOf(Sluice.Role.class), false, Clock.systemUTC())) {
            assertThatThrownBy(sluice::start)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith(expected)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain(secret));
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(PROMPTLY);

        Path file = Files.writeString(dir.resolve("refused-" + UUID.randomUUID() + ".yaml"), yaml);
        Output out = cli(file, "worker");
        assertThat(out.code).as(out.err).isEqualTo(2);
        assertThat(out.err.lines().filter(line -> line.startsWith("Invalid configuration:")))
                .as("one message: " + out.err)
                .singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .startsWith(expected);
        assertThat(out.err)
                .as("no stack trace, no secret")
                .doesNotContain("\tat ")
                .doesNotContain(secret);
    }

    private static long tracks() throws Exception {
        try (Connection c = server.connect("warehouse");
                var s = c.createStatement();
                var r = s.executeQuery("SELECT count(*) FROM tls.tracks")) {
            assertThat(TlsPostgres.encrypted(c)).isTrue();
            r.next();
            return r.getLong(1);
        }
    }

    private static String yaml(String queueUrl, String queuePassword, String warehouseUrl, String warehousePassword) {
        String id = UUID.randomUUID().toString().substring(0, 8);
        return """
                kafka: {bootstrapServers: "%s", eventsTopic: tls-%s, partitions: 2}
                postgres: {url: "%s", user: sluice, password: "%s"}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: tls, writeKey: wk_tls_0123456789}]
                destinations: [{id: tls-warehouse, type: postgres, url: "%s", user: sluice, password: "%s"}]
                syncs: [{id: tls-to-warehouse, source: tls, destination: tls-warehouse, batch: {maxEvents: 50, maxAge: 200ms}}]
                planner: {groupId: tls-%s}
                worker: {pollInterval: 50ms}
                """.formatted(
                        TestKafka.bootstrapServers(), id, queueUrl, queuePassword, warehouseUrl, warehousePassword, id);
    }

    private record Output(int code, String out, String err) {}

    private static Output cli(Path file, String... command) {
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            String[] args = new String[command.length + 2];
            System.arraycopy(command, 0, args, 0, command.length);
            args[command.length] = "--config";
            args[command.length + 1] = file.toString();
            code = SluiceCli.run(args);
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
        }
        return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
