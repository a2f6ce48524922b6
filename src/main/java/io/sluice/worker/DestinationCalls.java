package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.delivery.Failures;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.destination.Destination;
import io.sluice.worker.DeliveryDecision.Claim;
import io.sluice.worker.DeliveryDecision.Decision;
import io.sluice.worker.DeliveryDecision.RetryNow;
import io.sluice.worker.DeliveryDecision.Rules;
import io.sluice.worker.DeliveryDecision.Split;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls a destination for one claim the way {@link DeliveryDecision} says: a conflict is delivered again at once (a
 * few times), and a batch refused as a whole for its events' data is split in halves, recursively, until the refused
 * events are found: the innocent halves are delivered at once, each refused event is reported failed on its own.
 * That costs O(k log n) calls for k refused events among n. Returns the final decision for the claim.
 */
final class DestinationCalls {
    private static final Logger log = LoggerFactory.getLogger(DestinationCalls.class);

    /** The claim's final decision, and the events the destination failed (by identity; none for a whole failure). */
    record Result(Decision decision, List<EventFailure> failures) {}

    private DestinationCalls() {}

    /**
     * Delivers {@code batch}; {@code claim} gives the claim as the decision sees it after so many prompt conflict
     * retries.
     */
    static Result deliver(
            Destination destination, DeliveryBatch batch, IntFunction<Claim> claim, Rules rules, Clock clock)
            throws InterruptedException {
        for (int conflicts = 0; ; conflicts++) {
            List<EventFailure> reported = null;
            DeliveryException failure = null;
            try {
                reported = destination.deliver(batch).failures();
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                failure = Failures.classify(e);
            }
            Decision decision = reported != null
                    ? DeliveryDecision.ofReport(claim.apply(conflicts), reported, rules, clock.instant())
                    : DeliveryDecision.ofFailure(claim.apply(conflicts), failure, rules, clock.instant());
            if (decision instanceof RetryNow) {
                log.debug("{}: {}; delivering again at once", describe(batch), failure.getMessage());
                continue;
            }
            if (!(decision instanceof Split split))
                return new Result(decision, reported == null ? List.of() : reported);
            List<ObjectNode> suspects = split.events() == null ? batch.events() : split.events();
            log.warn(
                    "{}: {} events refused together for their data ({}); splitting them to find the refused ones",
                    describe(batch),
                    suspects.size(),
                    split.reason().getMessage());
            List<EventFailure> failures = new ArrayList<>();
            if (reported != null) {
                List<EventFailure> together = DeliveryDecision.refusedTogether(reported);
                reported.stream().filter(f -> !together.contains(f)).forEach(failures::add);
            }
            new Bisection(destination, batch, failures).halves(suspects);
            return new Result(
                    DeliveryDecision.ofReport(claim.apply(conflicts), failures, rules, clock.instant()), failures);
        }
    }

    /** One split: the failures found so far, and the first failure that was not the events' data (then it stops). */
    private static final class Bisection {
        private final Destination destination;
        private final DeliveryBatch whole;
        private final List<EventFailure> failures;
        private DeliveryException stoppedBy;

        Bisection(Destination destination, DeliveryBatch whole, List<EventFailure> failures) {
            this.destination = destination;
            this.whole = whole;
            this.failures = failures;
        }

        /** {@code events} (more than one) were refused together for their data: try each half on its own. */
        void halves(List<ObjectNode> events) throws InterruptedException {
            int middle = events.size() / 2;
            part(events.subList(0, middle));
            part(events.subList(middle, events.size()));
        }

        private void part(List<ObjectNode> events) throws InterruptedException {
            if (stoppedBy != null) {
                // The destination failed for its own reasons meanwhile: the rest waits for the next attempt.
                events.forEach(e -> failures.add(new EventFailure(e, stoppedBy, null, null)));
                return;
            }
            List<EventFailure> reported = null;
            DeliveryException failure = null;
            for (int conflicts = 0; ; conflicts++) {
                try {
                    reported = destination
                            .deliver(whole.subset(List.copyOf(events)))
                            .failures();
                    break;
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    failure = Failures.classify(e);
                }
                if (!DeliveryDecision.retryNow(failure, conflicts)) break;
            }
            if (reported != null) {
                List<EventFailure> together = DeliveryDecision.refusedTogether(reported);
                reported.stream().filter(f -> !together.contains(f)).forEach(failures::add);
                if (!together.isEmpty())
                    refused(together.stream().map(EventFailure::event).toList(), together.get(0));
            } else if (failure.failureClass() != FailureClass.EVENT_DATA) {
                DeliveryException why = failure;
                stoppedBy = why;
                events.forEach(e -> failures.add(new EventFailure(e, why, null, null)));
            } else {
                refused(events, new EventFailure(events.get(0), failure, null, null));
            }
        }

        /** {@code events} were refused together, as {@code how}: one is blamed, several are halved again. */
        private void refused(List<ObjectNode> events, EventFailure how) throws InterruptedException {
            if (events.size() > 1) {
                halves(events);
                return;
            }
            ObjectNode event = events.get(0);
            DeliveryException blamed =
                    how.error().forEvent(event.path("messageId").asText(""));
            failures.add(new EventFailure(event, blamed, how.statusCode(), how.retryAfter()));
        }
    }

    private static String describe(DeliveryBatch batch) {
        return "delivery " + batch.idempotencyKey() + " of sync " + batch.syncId() + " ("
                + batch.events().size() + " events)";
    }
}
