package io.sluice.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Proves the failover harness: real streaming replication, promotion, read-only demotion and split brain. */
class PostgresClusterTest {
    private PostgresCluster cluster;
    private TcpProxy proxy;

    @BeforeEach
    void startCluster() {
        cluster = new PostgresCluster().start();
        proxy = new TcpProxy(cluster.primaryPort());
    }

    @AfterEach
    void stopCluster() {
        if (proxy != null) proxy.close();
        if (cluster != null) cluster.close();
    }

    @Test
    void standbyStreamsThePrimarysWritesAndRejectsWrites() throws Exception {
        assertThat(cluster.isInRecovery(cluster.primaryPort())).isFalse();
        assertThat(cluster.isInRecovery(cluster.standbyPort())).isTrue();
        execute(
                cluster.primaryPort(),
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t VALUES (1, 'one')");

        await("replication lag under 5 s")
                .atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> rows(cluster.standbyPort()).contains("1:one"));
        // A hot standby is read-only by nature: the same SQLSTATE a read-only primary gives.
        assertThatThrownBy(() -> execute(cluster.standbyPort(), "INSERT INTO t VALUES (2, 'two')"))
                .isInstanceOfSatisfying(
                        SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25006"));
    }

    @Test
    void afterPromotionAndSwitchNewConnectionsThroughTheProxyWriteToTheNewPrimary() throws Exception {
        Connection old = proxied();
        try (var s = old.createStatement()) {
            s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
            s.execute("INSERT INTO t VALUES (1, 'before')");
        }
        assertThat(serverPort(old)).isEqualTo(cluster.primaryPort());
        cluster.awaitStandbyCaughtUp();

        cluster.promoteStandby();
        proxy.switchTo(cluster.standbyPort(), true);

        // The open connection was cut like a failover: the client sees a connection error (SQLSTATE class 08).
        assertThatThrownBy(() -> old.createStatement().execute("INSERT INTO t VALUES (9, 'lost')"))
                .isInstanceOfSatisfying(
                        SQLException.class, e -> assertThat(e.getSQLState()).startsWith("08"));
        old.close();
        try (Connection c = proxied();
                var s = c.createStatement()) {
            assertThat(serverPort(c)).isEqualTo(cluster.standbyPort());
            s.execute("INSERT INTO t VALUES (2, 'after')");
        }
        assertThat(rows(cluster.standbyPort())).containsExactly("1:before", "2:after");
        assertThat(cluster.isInRecovery(cluster.standbyPort())).isFalse();
        assertThat(proxy.connectionsTo(cluster.primaryPort())).isEqualTo(1);
        assertThat(proxy.connectionsTo(cluster.standbyPort())).isEqualTo(1);
        assertThat(proxy.bytesTo(cluster.standbyPort())).isPositive();
        assertThat(proxy.bytesFrom(cluster.standbyPort())).isPositive();
    }

    @Test
    void aReadOnlyOldPrimaryRejectsUpdatesWith25006() throws Exception {
        execute(
                cluster.primaryPort(),
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t VALUES (1, 'one')");
        cluster.promoteStandby();
        cluster.restartReadOnly(cluster.primaryPort());
        assertThat(cluster.isInRecovery(cluster.primaryPort()))
                .as("read-only, but not a standby")
                .isFalse();

        try (Connection c = proxied();
                var s = c.createStatement()) {
            assertThat(serverPort(c)).isEqualTo(cluster.primaryPort());
            assertThatThrownBy(() -> s.executeUpdate("UPDATE t SET v = 'x' WHERE id = 1"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("25006");
                        assertThat(e.getMessage()).contains("read-only transaction");
                    });
        }
        assertThat(rows(cluster.primaryPort())).containsExactly("1:one"); // reads still work

        cluster.restart(cluster.primaryPort()); // and a plain restart makes it writable again
        execute(cluster.primaryPort(), "UPDATE t SET v = 'x' WHERE id = 1");
    }

    @Test
    void splitBrainBothInstancesAcceptWrites() throws Exception {
        execute(
                cluster.primaryPort(),
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t VALUES (1, 'common')");
        cluster.awaitStandbyCaughtUp();
        cluster.killPrimary();
        assertThat(cluster.isRunning(cluster.primaryPort())).isFalse();
        // While the proxy still points at the dead primary, clients get a connection failure (SQLSTATE class 08).
        assertThatThrownBy(this::proxied)
                .isInstanceOfSatisfying(
                        SQLException.class, e -> assertThat(e.getSQLState()).startsWith("08"));
        assertThat(proxy.failedConnectionsTo(cluster.primaryPort())).isEqualTo(1);
        cluster.promoteStandby();
        cluster.restart(cluster.primaryPort()); // comes back as a primary, not as a standby of the new one

        // Flapping: the proxy alternates between the two writable primaries; each keeps its own history.
        execute(cluster.standbyPort(), "INSERT INTO t VALUES (2, 'promoted')");
        try (Connection c = proxied();
                var s = c.createStatement()) {
            s.execute("INSERT INTO t VALUES (3, 'old-primary')");
        }
        proxy.switchTo(cluster.standbyPort(), true);
        try (Connection c = proxied();
                var s = c.createStatement()) {
            s.execute("INSERT INTO t VALUES (4, 'promoted-again')");
        }
        assertThat(cluster.isInRecovery(cluster.primaryPort())).isFalse();
        assertThat(cluster.isInRecovery(cluster.standbyPort())).isFalse();
        assertThat(rows(cluster.primaryPort())).containsExactly("1:common", "3:old-primary");
        assertThat(rows(cluster.standbyPort())).containsExactly("1:common", "2:promoted", "4:promoted-again");
    }

    @Test
    void closeLeavesNoPostgresProcesses() throws Exception {
        try (Connection c = proxied()) { // an open backend too, not just the postmasters
            List<ProcessHandle> processes = cluster.processes();
            assertThat(processes.size()).isGreaterThanOrEqualTo(4); // 2 postmasters, walsender/receiver, backends...
            cluster.close();
            assertThat(processes).noneMatch(PostgresCluster::isLive);
            assertThat(cluster.isRunning(cluster.primaryPort())).isFalse();
            assertThat(cluster.isRunning(cluster.standbyPort())).isFalse();
        }
    }

    private Connection proxied() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", PostgresCluster.USER);
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + PostgresCluster.DATABASE, props);
    }

    private void execute(int port, String... statements) throws SQLException {
        try (Connection c = cluster.connect(port, PostgresCluster.DATABASE);
                var s = c.createStatement()) {
            for (String sql : statements) s.execute(sql);
        }
    }

    private List<String> rows(int port) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = cluster.connect(port, PostgresCluster.DATABASE);
                var s = c.createStatement();
                var rs = s.executeQuery("SELECT id, v FROM t ORDER BY id")) {
            while (rs.next()) rows.add(rs.getInt(1) + ":" + rs.getString(2));
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) return rows; // table not replicated yet
            throw e;
        }
        return rows;
    }

    private static int serverPort(Connection c) throws SQLException {
        try (var s = c.createStatement();
                var rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
