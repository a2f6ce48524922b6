package io.sluice.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.retry.RetryPolicy;
import io.sluice.worker.DeliveryDecision.Claim;
import io.sluice.worker.DeliveryDecision.Dead;
import io.sluice.worker.DeliveryDecision.DeadLetter;
import io.sluice.worker.DeliveryDecision.Decision;
import io.sluice.worker.DeliveryDecision.Delivered;
import io.sluice.worker.DeliveryDecision.Fate;
import io.sluice.worker.DeliveryDecision.Kind;
import io.sluice.worker.DeliveryDecision.PerEvent;
import io.sluice.worker.DeliveryDecision.Retry;
import io.sluice.worker.DeliveryDecision.RetryNow;
import io.sluice.worker.DeliveryDecision.Rules;
import io.sluice.worker.DeliveryDecision.Split;
import io.sluice.worker.DeliveryDecision.WaitAsRow;
import io.sluice.worker.DeliveryDecision.Waiting;
import io.sluice.worker.DeliveryDecision.Waits;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The delivery decision, row by row of the table in docs/webhooks.md ("The delivery decision"), without Kafka or
 * PostgreSQL: every failure class x attempts (first, third, last allowed) x age (young, past maxAge) x take-rate
 * (most, little) x destination (event by event: it blames each refused event; whole batches: it can only say the
 * request was refused) x claim (batch, retry chain) x result (whole failure, report failing every event).
 */
class DeliveryDecisionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final int MAX_ATTEMPTS = 5;
    private static final RetryPolicy POLICY =
            new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(10), MAX_ATTEMPTS, Duration.ofHours(1));
    private static final int EVENTS = 4;

    enum Attempts {
        FIRST(1),
        THIRD(3),
        LAST(MAX_ATTEMPTS);
        final int count;

        Attempts(int count) {
            this.count = count;
        }
    }

    enum Age {
        YOUNG(Duration.ofMinutes(1)),
        PAST_MAX_AGE(Duration.ofHours(2));
        final Duration age;

        Age(Duration age) {
            this.age = age;
        }
    }

    enum Result {
        WHOLE_FAILURE,
        REPORT_ALL_FAILED
    }

    /**
     * Whether the failure came with a Retry-After (a webhook's 429/503, a called service's, or a pause of either):
     * never an earlier next attempt than it, and never a different decision.
     */
    enum RetryAfter {
        NONE(null),
        SHORTER_THAN_BACKOFF(Duration.ofMillis(1)),
        LONGER_THAN_CAP(Duration.ofSeconds(30));
        final Duration wait;

        RetryAfter(Duration wait) {
            this.wait = wait;
        }
    }

    /** What the table says, reduced to what the assertions compare: the decision's type and each event's fate. */
    record Expected(Class<? extends Decision> decision, List<Class<? extends Fate>> fates) {
        static Expected of(Class<? extends Decision> decision) {
            return new Expected(decision, List.of());
        }

        static Expected of(Class<? extends Decision> decision, List<Class<? extends Fate>> fates) {
            return new Expected(decision, fates);
        }
    }

    static Stream<Arguments> rows() {
        List<Arguments> rows = new ArrayList<>();
        for (FailureClass c : FailureClass.values())
            for (Attempts attempts : Attempts.values())
                for (Age age : Age.values())
                    for (boolean acceptsMost : new boolean[] {true, false})
                        for (boolean eventByEvent : new boolean[] {true, false})
                            for (Kind kind : Kind.values())
                                for (Result result : Result.values())
                                    for (RetryAfter retryAfter : RetryAfter.values())
                                        rows.add(Arguments.of(
                                                c, attempts, age, acceptsMost, eventByEvent, kind, result, retryAfter));
        return rows.stream();
    }

    /** The policy table, as docs/webhooks.md writes it. */
    static Expected table(
            FailureClass c,
            Attempts attempts,
            Age age,
            boolean acceptsMost,
            boolean eventByEvent,
            Kind kind,
            Result r) {
        boolean old = age == Age.PAST_MAX_AGE;
        // Row 1-2: conflicts are retried at once; a whole failure for the events' data is split to find them.
        if (r == Result.WHOLE_FAILURE && c == FailureClass.CONFLICT) return Expected.of(RetryNow.class);
        if (c == FailureClass.EVENT_DATA && (r == Result.WHOLE_FAILURE || !eventByEvent))
            return Expected.of(Split.class); // refused together: split to find the refused events
        int after = c.usesAttempt() ? attempts.count : attempts.count - 1; // no-attempt classes give it back
        boolean exhausted = after >= MAX_ATTEMPTS || old;
        if (kind == Kind.RETRY_CHAIN) {
            // Rows 8-9: a chain, whole failure or not, per event in order: the head rescheduled unless permanent or
            // exhausted (then a dead letter, and the next is the head); behind it the others wait.
            if (!c.retriable() || exhausted) return Expected.of(PerEvent.class, fates(DeadLetter.class));
            return Expected.of(PerEvent.class, headAndRest(Retry.class, Waits.class));
        }
        if (r == Result.WHOLE_FAILURE) {
            // Rows 3-4: a batch failed as a whole waits as its row while the policy allows, else it is dead.
            return c.retriable() && !exhausted ? Expected.of(WaitAsRow.class) : Expected.of(Dead.class);
        }
        // Rows 5-7: a report; every event failed, so nothing progressed.
        if (!c.retriable()) return Expected.of(PerEvent.class, fates(DeadLetter.class));
        if (exhausted) {
            // Per event: what uses attempts used them all; what uses none goes to the retry queue, bounded by age
            // there.
            return Expected.of(PerEvent.class, fates(c.usesAttempt() ? DeadLetter.class : Retry.class));
        }
        if (!c.destinationsReason() && after >= DeliveryDecision.ROUNDS_WITHOUT_PROGRESS && acceptsMost)
            return Expected.of(PerEvent.class, fates(Retry.class)); // the refused events leave the row
        return Expected.of(WaitAsRow.class, fates(Waits.class));
    }

    @ParameterizedTest(name = "{0} attempts={1} age={2} acceptsMost={3} eventByEvent={4} {5} {6} retryAfter={7}")
    @MethodSource("rows")
    void everyRowOfThePolicy(
            FailureClass c,
            Attempts attempts,
            Age age,
            boolean acceptsMost,
            boolean eventByEvent,
            Kind kind,
            Result r,
            RetryAfter retryAfter) {
        List<ObjectNode> events = events(EVENTS);
        Instant since = NOW.minus(age.age);
        DeliveryException failure = DeliveryException.of(c, c.name(), null);
        Claim claim = kind == Kind.BATCH
                ? Claim.batch(attempts.count, since, EVENTS, 0)
                : Claim.chain(
                        events.stream()
                                .map(e -> new Waiting(e, attempts.count - 1, since))
                                .toList(),
                        0);
        Rules rules = new Rules(POLICY, acceptsMost);
        Decision decision = r == Result.WHOLE_FAILURE
                ? DeliveryDecision.ofFailure(claim, failure, retryAfter.wait, rules, NOW)
                : DeliveryDecision.ofReport(
                        claim,
                        events.stream()
                                .map(e -> new EventFailure(
                                        e,
                                        eventByEvent
                                                ? failure.forEvent(
                                                        e.get("messageId").asText())
                                                : failure,
                                        null,
                                        retryAfter.wait))
                                .toList(),
                        rules,
                        NOW);

        Expected expected = table(c, attempts, age, acceptsMost, eventByEvent, kind, r);
        assertThat(decision).isInstanceOf(expected.decision());
        List<Fate> fates = switch (decision) {
            case PerEvent p -> p.fates();
            case WaitAsRow w -> w.fates();
            default -> List.of();
        };
        assertThat(fates).map(f -> (Object) f.getClass()).containsExactlyElementsOf(expected.fates());
        assertThat(fates).map(f -> f.failure().event()).allMatch(events::contains);
        // never before the Retry-After; exactly at its end for what was never sent; else within the backoff's cap
        Instant earliest = retryAfter.wait == null ? NOW.plusNanos(1) : NOW.plus(retryAfter.wait);
        Instant latest = NOW.plus(
                retryAfter.wait == null || retryAfter.wait.compareTo(POLICY.cap()) < 0
                        ? POLICY.cap()
                        : retryAfter.wait);
        for (Fate fate : fates) {
            if (fate instanceof Retry retry) assertThat(retry.next()).isBetween(earliest, latest);
            if (fate instanceof DeadLetter dead) assertThat(dead.attempts()).isPositive();
        }
        if (decision instanceof WaitAsRow wait) {
            assertThat(wait.nextAttempt()).isBetween(earliest, latest);
            if (c == FailureClass.NOT_SENT && r == Result.WHOLE_FAILURE && retryAfter.wait != null)
                assertThat(wait.nextAttempt())
                        .as("never sent: back exactly when it may be sent again")
                        .isEqualTo(NOW.plus(retryAfter.wait));
            assertThat(wait.countsAttempt()).isEqualTo(r == Result.REPORT_ALL_FAILED || c.usesAttempt());
            assertThat(wait.wholeBatch()).isEqualTo(r == Result.WHOLE_FAILURE);
        }
    }

    @Test
    void conflictsAreRetriedAtOnceOnlyAFewTimesPerClaim() {
        DeliveryException conflict = DeliveryException.of(FailureClass.CONFLICT, "40P01 deadlock", null);
        Rules rules = new Rules(POLICY, true);
        for (int i = 0; i < DeliveryDecision.PROMPT_CONFLICT_RETRIES; i++)
            assertThat(DeliveryDecision.ofFailure(Claim.batch(1, NOW, 2, i), conflict, rules, NOW))
                    .isInstanceOf(RetryNow.class);
        Decision after = DeliveryDecision.ofFailure(
                Claim.batch(1, NOW, 2, DeliveryDecision.PROMPT_CONFLICT_RETRIES), conflict, rules, NOW);
        assertThat(after).isInstanceOfSatisfying(WaitAsRow.class, w -> {
            assertThat(w.countsAttempt()).as("a conflict uses no attempt").isFalse();
            assertThat(w.attempts()).isZero();
        });
    }

    @Test
    void aSingleEventRefusedForItsDataIsADeadLetterNotASplit() {
        DeliveryException data = DeliveryException.of(FailureClass.EVENT_DATA, "54000 index row too big", null);
        Rules rules = new Rules(POLICY, true);
        assertThat(DeliveryDecision.ofFailure(Claim.batch(1, NOW, 1, 0), data, rules, NOW))
                .isInstanceOf(Dead.class);
        ObjectNode only = events(1).get(0);
        assertThat(DeliveryDecision.ofFailure(Claim.chain(List.of(new Waiting(only, 0, NOW)), 0), data, rules, NOW))
                .isInstanceOfSatisfying(
                        PerEvent.class,
                        p -> assertThat(p.fates()).singleElement().isInstanceOf(DeadLetter.class));
    }

    @Test
    void aBatchThatDeliveredSomeStartsCountingAgainAndRecordsWhatItSettled() {
        List<ObjectNode> events = events(4);
        DeliveryException error = DeliveryException.of(FailureClass.RESPONSIVE_ERROR, "HTTP 500", null);
        DeliveryException bad = DeliveryException.of(FailureClass.EVENT_DATA, "HTTP 400", null);
        Decision decision = DeliveryDecision.ofReport(
                Claim.batch(4, NOW, 4, 0),
                List.of(
                        new EventFailure(events.get(0), error, 500, null),
                        new EventFailure(events.get(1), bad, 400, null)),
                new Rules(POLICY, true),
                NOW);
        assertThat(decision).isInstanceOfSatisfying(WaitAsRow.class, w -> {
            assertThat(w.progressed()).isTrue();
            assertThat(w.attempts())
                    .as("the attempts of a row count the tries of what is left")
                    .isEqualTo(1);
            assertThat(w.fates())
                    .extracting(
                            f -> f.getClass().getSimpleName(), f -> f.failure().event())
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple("DeadLetter", events.get(1)),
                            org.assertj.core.groups.Tuple.tuple("Waits", events.get(0)));
        });
    }

    @Test
    void aChainDeliversItsHeadAndReschedulesTheFirstFailure() {
        List<ObjectNode> events = events(3);
        DeliveryException error = DeliveryException.of(FailureClass.RESPONSIVE_ERROR, "HTTP 500", null);
        Claim chain =
                Claim.chain(events.stream().map(e -> new Waiting(e, 1, NOW)).toList(), 0);
        Decision decision = DeliveryDecision.ofReport(
                chain,
                List.of(
                        new EventFailure(events.get(1), error, 500, null),
                        new EventFailure(events.get(2), error, 500, null)),
                new Rules(POLICY, true),
                NOW);
        assertThat(decision).isInstanceOfSatisfying(PerEvent.class, p -> {
            assertThat(p.fates()).hasSize(2);
            assertThat(p.fates().get(0))
                    .isInstanceOfSatisfying(
                            Retry.class, r -> assertThat(r.attempts()).isEqualTo(2));
            assertThat(p.fates().get(1)).isInstanceOf(Waits.class);
        });
        assertThat(DeliveryDecision.ofReport(chain, List.of(), new Rules(POLICY, true), NOW))
                .isInstanceOf(Delivered.class);
    }

    private static List<Class<? extends Fate>> fates(Class<? extends Fate> each) {
        return IntStream.range(0, EVENTS)
                .<Class<? extends Fate>>mapToObj(i -> each)
                .toList();
    }

    private static List<Class<? extends Fate>> headAndRest(Class<? extends Fate> head, Class<? extends Fate> rest) {
        return IntStream.range(0, EVENTS)
                .<Class<? extends Fate>>mapToObj(i -> i == 0 ? head : rest)
                .toList();
    }

    private static List<ObjectNode> events(int n) {
        return IntStream.range(0, n)
                .mapToObj(i -> JSON.createObjectNode().put("messageId", "m" + i).put("userId", "u" + i))
                .toList();
    }
}
