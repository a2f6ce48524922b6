package io.sluice.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParseException;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.MalformedInputException;
import java.sql.SQLException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of exception Sluice can see has a class, and only the class decides (docs/webhooks.md "Failures"). */
class FailuresTest {

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(new SQLException("connection refused", "08001"), FailureClass.UNREACHABLE),
                Arguments.of(new SQLException("read-only", "25006"), FailureClass.UNREACHABLE),
                Arguments.of(new SQLException("shutting down", "57P01"), FailureClass.UNREACHABLE),
                Arguments.of(new SQLException("statement timeout", "57014"), FailureClass.UNRESPONSIVE),
                Arguments.of(new SQLException("lock timeout", "55P03"), FailureClass.UNRESPONSIVE),
                Arguments.of(new SQLException("deadlock", "40P01"), FailureClass.CONFLICT),
                Arguments.of(new SQLException("serialization", "40001"), FailureClass.CONFLICT),
                Arguments.of(new SQLException("disk full", "53100"), FailureClass.RESPONSIVE_ERROR),
                Arguments.of(new SQLException("io error", "58030"), FailureClass.RESPONSIVE_ERROR),
                Arguments.of(new SQLException("invalid byte sequence 0x00", "22021"), FailureClass.EVENT_DATA),
                Arguments.of(new SQLException("invalid json", "22P02"), FailureClass.EVENT_DATA),
                Arguments.of(new SQLException("duplicate key", "23505"), FailureClass.EVENT_DATA),
                Arguments.of(new SQLException("index row too big", "54000"), FailureClass.EVENT_DATA),
                Arguments.of(new SQLException("too many columns", "54011"), FailureClass.EVENT_DATA),
                Arguments.of(new SQLException("column xmin exists", "42701"), FailureClass.EVENT_DATA),
                Arguments.of(new SQLException("tracks_pkey is an index", "42809"), FailureClass.EVENT_DATA),
                Arguments.of(new SQLException("permission denied", "42501"), FailureClass.PERMANENT),
                Arguments.of(new SQLException("internal", "XX000"), FailureClass.PERMANENT),
                Arguments.of(new ConnectException("refused"), FailureClass.UNREACHABLE),
                Arguments.of(new IOException("connection reset"), FailureClass.UNRESPONSIVE),
                Arguments.of(new TimeoutException("slow"), FailureClass.UNRESPONSIVE),
                Arguments.of(new JsonParseException(null, "bad json"), FailureClass.EVENT_DATA),
                Arguments.of(new MalformedInputException(1), FailureClass.EVENT_DATA),
                Arguments.of(new RecordTooLargeException("too large"), FailureClass.EVENT_DATA),
                Arguments.of(new InvalidRecordException("no key"), FailureClass.EVENT_DATA),
                Arguments.of(new InvalidTopicException("bad topic"), FailureClass.PERMANENT),
                Arguments.of(new NotLeaderOrFollowerException("moving"), FailureClass.UNRESPONSIVE),
                Arguments.of(new AuthorizationException("denied"), FailureClass.RESPONSIVE_ERROR),
                Arguments.of(new IllegalArgumentException("invalid header value: \"a\\nb\""), FailureClass.EVENT_DATA),
                Arguments.of(new NullPointerException("bug"), FailureClass.INTERNAL),
                Arguments.of(new IllegalStateException("bug"), FailureClass.INTERNAL),
                Arguments.of(new ClassCastException("bug"), FailureClass.INTERNAL),
                Arguments.of(new StackOverflowError(), FailureClass.INTERNAL),
                Arguments.of(
                        new RuntimeException("wrapped", new SQLException("too big", "54000")),
                        FailureClass.EVENT_DATA));
    }

    @ParameterizedTest(name = "{0} is {1}")
    @MethodSource("failures")
    void everyFailureHasAClassAndTheClassDecides(Throwable failure, FailureClass expected) {
        DeliveryException classified = Failures.classify(failure);
        assertThat(classified.failureClass()).isEqualTo(expected);
        assertThat(classified.isRetriable()).isEqualTo(expected.retriable());
        assertThat(classified.usesAttempt()).isEqualTo(expected.usesAttempt());
        assertThat(Failures.isRetriable(failure)).isEqualTo(expected.retriable());
    }

    @Test
    void ourOwnBugsAndTheEventsDataAreNeverRetriedWithoutUsingAttempts() {
        // Retried forever would mean: retriable and using no attempt (only maxAge bounds those).
        for (FailureClass c : FailureClass.values()) {
            if (c == FailureClass.EVENT_DATA || c == FailureClass.INTERNAL || c == FailureClass.PERMANENT)
                assertThat(c.usesAttempt()).as(c.name()).isTrue();
        }
        assertThat(FailureClass.EVENT_DATA.retriable()).isFalse();
        assertThat(FailureClass.CONFLICT.retriable()).isTrue();
        assertThat(FailureClass.CONFLICT.usesAttempt()).isFalse();
    }

    @Test
    void aKnownFailureKeepsItsClassWhenWrapped() {
        DeliveryException conflict = DeliveryException.of(FailureClass.CONFLICT, "schema changed", null);
        assertThat(Failures.classify(new RuntimeException(conflict)).failureClass())
                .isEqualTo(FailureClass.CONFLICT);
        assertThat(Failures.classify(conflict)).isSameAs(conflict);
    }

    @Test
    void httpStatusesOfARefusedBodyAreTheEventsData() {
        assertThat(Failures.ofStatus(400)).isEqualTo(FailureClass.EVENT_DATA);
        assertThat(Failures.ofStatus(413)).isEqualTo(FailureClass.EVENT_DATA);
        assertThat(Failures.ofStatus(422)).isEqualTo(FailureClass.EVENT_DATA);
        assertThat(Failures.ofStatus(401)).isEqualTo(FailureClass.PERMANENT);
        assertThat(Failures.ofStatus(404)).isEqualTo(FailureClass.PERMANENT);
    }
}
