package io.sluice.delivery;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.CharacterCodingException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Sluice's one error taxonomy: every failure it can see gets a {@link FailureClass} here (cf. Kafka's
 * RetriableException and Sender.canRetry), and only the class decides what happens next. Everything that delivers or
 * writes asks here; nothing else guesses.
 */
public final class Failures {
    private Failures() {}

    public static boolean isRetriable(Throwable error) {
        return classify(error).isRetriable();
    }

    /** The class of any failure Sluice can see (see {@link #classOf}). */
    public static FailureClass classOf(Throwable error) {
        return classify(error).failureClass();
    }

    /**
     * Wraps any failure into a {@link DeliveryException} of its class: a {@link DeliveryException} keeps its own; SQL
     * errors are classed by SQLSTATE ({@link #ofSqlState}), I/O errors by {@link #ofExchange} (a JSON or character
     * encoding error is the events' data), Kafka errors by {@link #ofKafka}; an {@link IllegalArgumentException}
     * (e.g. {@code invalid header value} when a request is built from event content) is {@link FailureClass#EVENT_DATA};
     * everything else is {@link FailureClass#INTERNAL}: retried within the policy, then dead letters.
     */
    public static DeliveryException classify(Throwable error) {
        if (error instanceof DeliveryException known) return known;
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof DeliveryException known)
                return DeliveryException.of(known.failureClass(), known.getMessage(), error);
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return DeliveryException.of(ofSqlState(sql.getSQLState()), describe(sql), error);
            }
            if (t instanceof CharacterCodingException || t instanceof JsonProcessingException) {
                return DeliveryException.of(FailureClass.EVENT_DATA, t.toString(), error);
            }
            if (t instanceof SQLRecoverableException)
                return DeliveryException.of(FailureClass.UNREACHABLE, t.toString(), error);
            if (t instanceof SQLTransientException)
                return DeliveryException.of(FailureClass.UNRESPONSIVE, t.toString(), error);
            if (t instanceof IOException || t instanceof UnresolvedAddressException) {
                return DeliveryException.of(ofExchange(t), t.toString(), error);
            }
            if (t instanceof TimeoutException)
                return DeliveryException.of(FailureClass.UNRESPONSIVE, t.toString(), error);
            if (t instanceof KafkaException kafka) return DeliveryException.of(ofKafka(kafka), t.toString(), error);
            if (t instanceof IllegalArgumentException) {
                return DeliveryException.of(FailureClass.EVENT_DATA, t.toString(), error);
            }
        }
        // Our own bugs and anything unforeseen: retried within the attempt and age limits (a fix may be deployed
        // meanwhile), then dead letters with the error. Never retried forever.
        return DeliveryException.of(FailureClass.INTERNAL, String.valueOf(error), error);
    }

    /**
     * PostgreSQL SQLSTATEs. Connection problems (08), a server shutting down or starting (57P01-57P03) and a
     * read-only server after a failover (25006) are {@link FailureClass#UNREACHABLE}; lock and statement timeouts
     * (55P03, 57014) {@link FailureClass#UNRESPONSIVE}; serialization failures and deadlocks (40001, 40P01, any 40)
     * {@link FailureClass#CONFLICT}; resource exhaustion (53) and system errors (58) {@link
     * FailureClass#RESPONSIVE_ERROR}. The events' data: data exceptions (22), integrity violations (23), program
     * limits (54: a row or index entry too large, too many columns) and names that clash with the schema (42701
     * duplicate column, 42809 wrong object type, 42939 reserved name, 42622 name too long) are {@link
     * FailureClass#EVENT_DATA}. Everything else (a missing table or privilege, a syntax error) is {@link
     * FailureClass#PERMANENT}: the same batch would fail again.
     */
    public static FailureClass ofSqlState(String sqlState) {
        if (sqlState.startsWith("08")
                || sqlState.equals("25006")
                || sqlState.equals("57P01")
                || sqlState.equals("57P02")
                || sqlState.equals("57P03")) return FailureClass.UNREACHABLE;
        if (sqlState.equals("55P03") || sqlState.equals("57014")) return FailureClass.UNRESPONSIVE;
        if (sqlState.startsWith("40")) return FailureClass.CONFLICT;
        if (sqlState.startsWith("53") || sqlState.startsWith("58")) return FailureClass.RESPONSIVE_ERROR;
        if (sqlState.startsWith("22")
                || sqlState.startsWith("23")
                || sqlState.startsWith("54")
                || sqlState.equals("42701")
                || sqlState.equals("42809")
                || sqlState.equals("42939")
                || sqlState.equals("42622")) return FailureClass.EVENT_DATA;
        return FailureClass.PERMANENT;
    }

    /** Whether a retry can help a failure with this SQLSTATE (its {@link #ofSqlState class} says). */
    public static boolean isRetriableSqlState(String sqlState) {
        return ofSqlState(sqlState).retriable();
    }

    /**
     * Kafka errors: a record the broker refuses (too large, invalid, e.g. no key for a compacted topic) is {@link
     * FailureClass#EVENT_DATA}; an invalid topic name {@link FailureClass#PERMANENT}; Kafka's {@code
     * RetriableException}s {@link FailureClass#UNRESPONSIVE}; other Kafka errors (authorization, a closed producer,
     * ...) {@link FailureClass#RESPONSIVE_ERROR}, retried within the attempt and age limits since an operator can fix
     * them.
     */
    public static FailureClass ofKafka(KafkaException error) {
        if (error instanceof RecordTooLargeException
                || error instanceof RecordBatchTooLargeException
                || error instanceof InvalidRecordException) return FailureClass.EVENT_DATA;
        if (error instanceof InvalidTopicException) return FailureClass.PERMANENT;
        if (error instanceof RetriableException) return FailureClass.UNRESPONSIVE;
        return FailureClass.RESPONSIVE_ERROR;
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
     * other 5xx are {@link FailureClass#RESPONSIVE_ERROR}; 400, 413 and 422 refuse the body, the events' data ({@link
     * FailureClass#EVENT_DATA}); every other status (other 4xx, and 3xx: redirects are not followed) is {@link
     * FailureClass#PERMANENT}: the same request would be refused again.
     */
    public static FailureClass ofStatus(int status) {
        if (status == 429 || status == 503) return FailureClass.BACKPRESSURE;
        if (status == 408 || (status >= 500 && status <= 599)) return FailureClass.RESPONSIVE_ERROR;
        if (status == 400 || status == 413 || status == 422) return FailureClass.EVENT_DATA;
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

    private static String describe(SQLException e) {
        return "SQLSTATE " + e.getSQLState() + ": " + e.getMessage();
    }
}
