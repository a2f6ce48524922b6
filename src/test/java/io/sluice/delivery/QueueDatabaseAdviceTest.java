package io.sluice.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class QueueDatabaseAdviceTest {
    @Test
    void aFullDiskIsNamedWithWhatToDoAndStaysRetriable() {
        var full = new RuntimeException(
                "claim failed",
                new SQLException(
                        "ERROR: could not extend file \"base/16384/16385\": No space left on device", "53100"));
        assertThat(Failures.describeQueueDatabaseFailure(full))
                .startsWith("QUEUE DATABASE DISK FULL (SQLSTATE 53100)")
                .contains("data directory or its WAL (pg_wal)", "free space", "no restart is needed", "claim failed");
        assertThat(Failures.isRetriable(full)).isTrue();
    }

    @Test
    void noSpaceLeftInAnotherSqlStateIsAFullDiskToo() {
        var io = new SQLException("could not write to file \"pg_wal/xlogtemp.1\": No space left on device", "58030");
        assertThat(Failures.queueDatabaseAdvice(io)).startsWith("QUEUE DATABASE DISK FULL (SQLSTATE 58030)");
    }

    @Test
    void otherResourceLimitsSayWhichOne() {
        assertThat(Failures.queueDatabaseAdvice(new SQLException("too many clients", "53300")))
                .contains("max_connections", "postgres.maxPoolSize");
        assertThat(Failures.queueDatabaseAdvice(new SQLException("out of memory", "53200")))
                .startsWith("QUEUE DATABASE OUT OF MEMORY");
        assertThat(Failures.queueDatabaseAdvice(new SQLException("limit", "53400")))
                .startsWith("QUEUE DATABASE OUT OF RESOURCES (SQLSTATE 53400)");
    }

    @Test
    void ordinaryFailuresAreLoggedAsThey() {
        var refused = new SQLException("Connection refused", "08001");
        assertThat(Failures.queueDatabaseAdvice(refused)).isNull();
        assertThat(Failures.describeQueueDatabaseFailure(refused)).isEqualTo(refused.toString());
    }
}
