package io.sluice.delivery;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * The one place that decides whether a failure is worth retrying (cf. Kafka's RetriableException and
 * Sender.canRetry). Everything that delivers or writes asks here; nothing else guesses.
 */
public final class Failures {
    private Failures() {}

    public static boolean isRetriable(Throwable error) {
        return classify(error).isRetriable();
    }

    /** Wraps any failure into a {@link DeliveryException} with the retry decision made. */
    public static DeliveryException classify(Throwable error) {
        if (error instanceof DeliveryException known) return known;
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return isRetriableSqlState(sql.getSQLState())
                        ? DeliveryException.retriable(describe(sql), error)
                        : DeliveryException.permanent(describe(sql), error);
            }
            if (t instanceof SQLTransientException
                    || t instanceof SQLRecoverableException
                    || t instanceof IOException
                    || t instanceof TimeoutException
                    || t instanceof RetriableException) {
                return DeliveryException.retriable(t.toString(), error);
            }
            if (isPermanentKafkaError(t)) return DeliveryException.permanent(t.toString(), error);
        }
        // Unknown failures are retried: a bug fixed by a deploy should not have dead-lettered everything meanwhile.
        // The attempt/age limits still bound them.
        return DeliveryException.retriable(String.valueOf(error), error);
    }

    /**
     * PostgreSQL SQLSTATEs: connection problems (08), serialization failures and deadlocks (40001, 40P01), the
     * server shutting down or starting (57P01-57P03), read-only transaction after a failover (25006), resource
     * exhaustion (53), and lock/statement timeouts (55P03, 57014) are transient. Data and schema errors (22, 23,
     * 42, ...) are not: the same batch would fail again.
     */
    public static boolean isRetriableSqlState(String sqlState) {
        return sqlState.startsWith("08")
                || sqlState.startsWith("53")
                || sqlState.startsWith("40")
                || sqlState.equals("25006")
                || sqlState.equals("57P01")
                || sqlState.equals("57P02")
                || sqlState.equals("57P03")
                || sqlState.equals("55P03")
                || sqlState.equals("57014")
                || sqlState.equals("58000")
                || sqlState.equals("58030");
    }

    /**
     * A queue-database failure as an operator should read it: the error, and for the failures an operator must fix
     * on the database server (resource exhaustion, SQLSTATE class 53) which resource it is and what to do. Sluice
     * retries all of them by itself (events wait in Kafka); the words say what ends the wait.
     */
    public static String describeQueueDatabaseFailure(Throwable error) {
        String advice = queueDatabaseAdvice(error);
        return advice == null ? String.valueOf(error) : advice + " [" + error + "]";
    }

    /** The advice part of {@link #describeQueueDatabaseFailure}, or null when the failure needs no operator. */
    public static String queueDatabaseAdvice(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (!(t instanceof SQLException sql) || sql.getSQLState() == null) continue;
            String state = sql.getSQLState();
            if (state.equals("53100") || String.valueOf(sql.getMessage()).contains("No space left on device")) {
                return "QUEUE DATABASE DISK FULL (SQLSTATE " + state + "): the PostgreSQL server of postgres.url has no"
                        + " space left for its data directory or its WAL (pg_wal); free space or grow that filesystem"
                        + " (df on the server; delivered batches are pruned by Sluice once it can write again)."
                        + " Queue writes are retried, events wait in Kafka, no restart is needed";
            }
            if (state.equals("53200")) {
                return "QUEUE DATABASE OUT OF MEMORY (SQLSTATE 53200): the PostgreSQL server of postgres.url cannot"
                        + " allocate memory; check its memory settings and the host. Queue writes are retried";
            }
            if (state.equals("53300")) {
                return "QUEUE DATABASE REFUSES CONNECTIONS (SQLSTATE 53300, too many connections): raise max_connections"
                        + " on the server or lower postgres.maxPoolSize times the number of Sluice processes";
            }
            if (state.startsWith("53")) {
                return "QUEUE DATABASE OUT OF RESOURCES (SQLSTATE " + state + "): see the PostgreSQL server's log."
                        + " Queue writes are retried";
            }
            return null;
        }
        return null;
    }

    /**
     * The SQLSTATEs that mean "this connection does not reach a writable primary any more": a read-only server
     * (25006, e.g. a demoted writer behind a cluster endpoint), a broken connection (08xxx), or a server shutting
     * down (57P01-57P03). Every pooled connection may be in the same state, so the pool is evicted and writes hold.
     */
    public static boolean isWriterLoss(String sqlState) {
        return sqlState != null
                && (sqlState.equals("25006")
                        || sqlState.startsWith("08")
                        || sqlState.equals("57P01")
                        || sqlState.equals("57P02")
                        || sqlState.equals("57P03"));
    }

    /**
     * HTTP statuses (webhooks): 2xx is no failure; 429 and 503 are {@link FailureClass#BACKPRESSURE}; 408 and every
     * other 5xx are {@link FailureClass#RESPONSIVE_ERROR}; every other status (other 4xx, and 3xx: redirects are not
     * followed) is {@link FailureClass#PERMANENT}: the same request would be refused again.
     */
    public static FailureClass ofStatus(int status) {
        if (status == 429 || status == 503) return FailureClass.BACKPRESSURE;
        if (status == 408 || (status >= 500 && status <= 599)) return FailureClass.RESPONSIVE_ERROR;
        return FailureClass.PERMANENT;
    }

    public static boolean isRetriableStatus(int status) {
        return ofStatus(status).retriable();
    }

    /** A failed HTTP exchange as a {@link DeliveryException} of its {@link #ofStatus class}. */
    public static DeliveryException classifyStatus(int status, String message) {
        return DeliveryException.of(ofStatus(status), message, null);
    }

    /**
     * An HTTP exchange that ended without a status: a connect timeout, refused connection, unknown host or TLS
     * failure never reached the destination ({@link FailureClass#UNREACHABLE}); a request timeout or a connection
     * lost mid-exchange reached it and got no answer ({@link FailureClass#UNRESPONSIVE}).
     */
    public static FailureClass ofExchange(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException
                    || t instanceof ConnectException
                    || t instanceof SSLException
                    || t instanceof UnknownHostException
                    || t instanceof UnresolvedAddressException
                    || t instanceof NoRouteToHostException) {
                return FailureClass.UNREACHABLE;
            }
            if (t instanceof HttpTimeoutException) return FailureClass.UNRESPONSIVE;
        }
        return FailureClass.UNRESPONSIVE;
    }

    /**
     * Kafka errors that reject the record itself, so that sending it again cannot succeed: too large, an invalid
     * topic name, or a record the broker refuses (e.g. no key for a compacted topic). Kafka's {@code RetriableException}s
     * are retried; other Kafka errors (authorization, a closed producer, ...) fall under the default and are retried
     * within the attempt and age limits, since an operator can fix them.
     */
    private static boolean isPermanentKafkaError(Throwable t) {
        return t instanceof RecordTooLargeException
                || t instanceof RecordBatchTooLargeException
                || t instanceof InvalidTopicException
                || t instanceof InvalidRecordException;
    }

    private static String describe(SQLException e) {
        return "SQLSTATE " + e.getSQLState() + ": " + e.getMessage();
    }
}
