package io.sluice.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.delivery.DeliveryException;
import io.sluice.delivery.FailureClass;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.retry.RetryPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one delivery decision: what becomes of what a worker claimed (a batch, or a retry chain of one user's waiting
 * events) once the destination answered (a report naming the events it failed) or failed as a whole (a classified
 * {@link DeliveryException}). A pure function of the claim, the result, the destination's {@link RetryPolicy} and its
 * recent take-rate: no I/O, no clock of its own. The policy is the table in docs/webhooks.md ("The delivery
 * decision"), tested row by row in {@code DeliveryDecisionTest}.
 */
final class DeliveryDecision {
    /**
     * An answered error (not the destination's state) that settled nothing this many attempts in a row, while the
     * destination takes most of what it is sent, is likely an event it will never take: see {@link Rules}.
     */
    static final int ROUNDS_WITHOUT_PROGRESS = 3;
    /** How often a conflict (deadlock, serialization failure, stale schema) is retried at once within one claim. */
    static final int PROMPT_CONFLICT_RETRIES = 3;

    private DeliveryDecision() {}

    /** What was claimed. */
    enum Kind {
        /** A planned batch (or a run of them): waits as its row, its attempts counted on the row. */
        BATCH,
        /** A retry chain: one user's waiting events of one sync, each with its own attempts, delivered head first. */
        RETRY_CHAIN
    }

    /**
     * The claim being decided. For a {@link Kind#BATCH}: {@code attempts} counts this claim's attempt, {@code since}
     * is the batch's creation, {@code sent} how many events this attempt handled. For a {@link Kind#RETRY_CHAIN}:
     * {@code chain} the waiting events in order, each with its own attempts and first failure. {@code conflicts}: how
     * often this claim already retried a conflict promptly.
     */
    record Claim(Kind kind, int attempts, Instant since, int sent, List<Waiting> chain, int conflicts) {
        static Claim batch(int attempts, Instant createdAt, int sent, int conflicts) {
            return new Claim(Kind.BATCH, attempts, createdAt, sent, List.of(), conflicts);
        }

        static Claim chain(List<Waiting> events, int conflicts) {
            return new Claim(Kind.RETRY_CHAIN, 0, null, events.size(), List.copyOf(events), conflicts);
        }
    }

    /** One event of a retry chain: its attempts so far and when it first failed. */
    record Waiting(ObjectNode event, int attempts, Instant firstFailedAt) {}

    /**
     * The destination's side: its retry policy, and whether it lately took most of what it was sent (a row that keeps
     * failing then holds events it refuses, not a destination that refuses everything).
     */
    record Rules(RetryPolicy policy, boolean acceptsMostEvents) {}

    /** What the decision says. */
    sealed interface Decision {}

    /** Everything sent was delivered. */
    record Delivered() implements Decision {}

    /** A conflict: deliver the same events again at once, within this claim. */
    record RetryNow(DeliveryException conflict) implements Decision {}

    /**
     * The batch waits as its one row until {@code nextAttempt} with {@code attempts}; {@code fates} say what becomes of
     * each failed event meanwhile (dead letters and retry-queue rows are written with the row; the events that
     * {@link Waits} stay in it, everything else this attempt handled is settled). {@code wholeBatch}: nothing was
     * delivered and the row keeps its attempt count, less the claim's when the failure {@code countsAttempt} not.
     */
    record WaitAsRow(
            DeliveryException reason,
            Instant nextAttempt,
            int attempts,
            boolean countsAttempt,
            boolean wholeBatch,
            boolean progressed,
            List<Fate> fates)
            implements Decision {}

    /** Done as a claim: every failed event has its own fate (retry queue, dead letter, or waiting in its chain). */
    record PerEvent(List<Fate> fates) implements Decision {}

    /**
     * Several events were refused together for the data of some of them ({@link FailureClass#EVENT_DATA} not blamed on
     * one event: a whole batch, or a webhook chunk): deliver {@code events} in halves (recursively) to find the
     * refused ones; the rest goes through at once. The halves' results are decided again, as a report.
     */
    record Split(DeliveryException reason, List<ObjectNode> events) implements Decision {}

    /** Over: every event not delivered becomes a dead letter with {@code reason}. */
    record Dead(DeliveryException reason, int attempts) implements Decision {}

    /** What becomes of one failed event. */
    sealed interface Fate {
        EventFailure failure();
    }

    /** To the retry queue (from a batch), or a chain's head rescheduled, with its attempts, due at {@code next}. */
    record Retry(EventFailure failure, int attempts, Instant next) implements Fate {}

    /** A dead letter with its attempts. */
    record DeadLetter(EventFailure failure, int attempts) implements Fate {}

    /** Stays where it is: in its batch row, or in its chain behind the rescheduled head. */
    record Waits(EventFailure failure) implements Fate {}

    /** Whether a failure is retried at once within the claim (a conflict, at most {@link #PROMPT_CONFLICT_RETRIES}). */
    static boolean retryNow(DeliveryException failure, int conflictsSoFar) {
        return failure.failureClass() == FailureClass.CONFLICT && conflictsSoFar < PROMPT_CONFLICT_RETRIES;
    }

    /** The claim failed as a whole, without a Retry-After. */
    static Decision ofFailure(Claim claim, DeliveryException failure, Rules rules, Instant now) {
        return ofFailure(claim, failure, null, rules, now);
    }

    /**
     * The claim failed as a whole; {@code retryAfter}: how long the failing party asked to wait (a service the sync's
     * function calls answered 429/503 with Retry-After, or paused it), or null. The next attempt follows
     * {@link #nextAttempt} as a destination's Retry-After does.
     */
    static Decision ofFailure(Claim claim, DeliveryException failure, Duration retryAfter, Rules rules, Instant now) {
        if (retryNow(failure, claim.conflicts())) return new RetryNow(failure);
        if (failure.failureClass() == FailureClass.EVENT_DATA && claim.sent() > 1) return new Split(failure, null);
        if (claim.kind() == Kind.RETRY_CHAIN) {
            return ofReport(
                    claim,
                    claim.chain().stream()
                            .map(w -> new EventFailure(w.event(), failure, null, retryAfter))
                            .toList(),
                    rules,
                    now);
        }
        int attempts = attemptsAfter(claim.attempts(), failure, false);
        if (failure.isRetriable() && !rules.policy().exhausted(attempts, claim.since(), now)) {
            Instant next = nextAttempt(rules.policy(), failure, retryAfter, attempts, now);
            return new WaitAsRow(failure, next, attempts, failure.usesAttempt(), true, false, List.of());
        }
        return new Dead(failure, Math.max(1, attempts));
    }

    /** The destination answered, naming the events it failed ({@code failures}; none: all delivered). */
    static Decision ofReport(Claim claim, List<EventFailure> failures, Rules rules, Instant now) {
        if (failures.isEmpty()) return new Delivered();
        List<EventFailure> together = refusedTogether(failures);
        if (together.size() > 1)
            return new Split(
                    together.get(0).error(),
                    together.stream().map(EventFailure::event).toList());
        return claim.kind() == Kind.RETRY_CHAIN
                ? chain(claim, failures, rules, now)
                : batch(claim, failures, rules, now);
    }

    /**
     * A batch: while events failed retriably it waits as its one row (its successors behind it, so per-user order
     * holds) for another attempt with the rest, unless the policy is exhausted (then per event). One exception: an
     * answered error that settled nothing {@link #ROUNDS_WITHOUT_PROGRESS} attempts in a row while the destination
     * takes most of what it is sent sends the events that failed on their own to the retry queue, so one user's bad
     * event stops holding up the other users of its sync and partition.
     */
    private static Decision batch(Claim claim, List<EventFailure> failures, Rules rules, Instant now) {
        Set<ObjectNode> waiting = Collections.newSetFromMap(new IdentityHashMap<>());
        List<EventFailure> retriable = new ArrayList<>();
        for (EventFailure f : failures) {
            if (f.error().isRetriable() && waiting.add(f.event())) retriable.add(f);
        }
        if (retriable.isEmpty()) return perEvent(claim, failures, waiting, rules, now);
        boolean progressed = waiting.size() < claim.sent(); // delivered, dead or queued behind: settled now
        EventFailure decisive = decisive(retriable);
        int attempts = attemptsAfter(claim.attempts(), decisive.error(), progressed);
        if (rules.policy().exhausted(attempts, claim.since(), now))
            return perEvent(claim, failures, waiting, rules, now);
        List<Fate> fates = new ArrayList<>();
        if (!decisive.error().failureClass().destinationsReason()
                && attempts >= ROUNDS_WITHOUT_PROGRESS
                && rules.acceptsMostEvents()) {
            // The events that failed on their own go to the retry queue (their users' later events queue behind them
            // there); the events held behind them stay in the row, and the next attempt sends the other users'.
            for (EventFailure f : retriable) {
                if (!f.error().usesAttempt()) continue;
                fates.add(new Retry(f, claim.attempts(), nextAttempt(rules.policy(), f, claim.attempts(), now)));
                waiting.remove(f.event());
            }
            progressed = true;
            attempts = 0;
            if (waiting.isEmpty()) {
                fates.addAll(perEvent(claim, failures, waiting, rules, now).fates());
                return new PerEvent(fates);
            }
        }
        for (EventFailure f : failures) {
            if (!f.error().isRetriable()) fates.add(new DeadLetter(f, 1));
        }
        for (EventFailure f : retriable) {
            if (waiting.contains(f.event())) fates.add(new Waits(f));
        }
        Instant next = rules.policy().nextAttempt(Math.max(1, attempts), decisive.retryAfter(), now);
        return new WaitAsRow(decisive.error(), next, attempts, true, false, progressed, fates);
    }

    /**
     * Each failed event of a batch on its own: to the retry queue, or, when it failed permanently or used up the
     * policy, a dead letter. Retriable events not in {@code stillInRow} already went to the retry queue (skipped). What waited
     * as a row takes its attempts along; backpressure, conflicts and events never sent use none.
     */
    private static PerEvent perEvent(
            Claim claim, List<EventFailure> failures, Set<ObjectNode> stillInRow, Rules rules, Instant now) {
        List<Fate> fates = new ArrayList<>();
        for (EventFailure f : failures) {
            if (!stillInRow.contains(f.event()) && f.error().isRetriable()) continue; // in the retry queue already
            int attempts = f.error().usesAttempt() ? Math.max(1, attemptsAfter(claim.attempts(), f.error(), false)) : 0;
            boolean exhausted = attempts > 0 && rules.policy().exhausted(attempts, claim.since(), now);
            fates.add(
                    f.error().isRetriable() && !exhausted
                            ? new Retry(f, attempts, nextAttempt(rules.policy(), f, attempts, now))
                            : new DeadLetter(f, Math.max(1, attempts)));
        }
        return new PerEvent(fates);
    }

    /**
     * A retry chain, in order: a delivered event leaves; the first failed one is rescheduled unless it failed
     * permanently or used up the policy (then a dead letter, and the next one is considered); behind a rescheduled
     * event the others wait untouched, except those failed permanently (dead letters).
     */
    private static Decision chain(Claim claim, List<EventFailure> failures, Rules rules, Instant now) {
        Map<ObjectNode, EventFailure> failed = new IdentityHashMap<>();
        failures.forEach(f -> failed.putIfAbsent(f.event(), f));
        List<Fate> fates = new ArrayList<>();
        boolean rescheduled = false;
        for (Waiting w : claim.chain()) {
            EventFailure f = failed.get(w.event());
            if (f == null) continue; // delivered
            int attempts = w.attempts() + (f.error().usesAttempt() ? 1 : 0);
            if (!f.error().isRetriable()
                    || (!rescheduled && rules.policy().exhausted(attempts, w.firstFailedAt(), now))) {
                fates.add(new DeadLetter(f, Math.max(1, attempts)));
            } else if (!rescheduled) {
                fates.add(new Retry(f, attempts, nextAttempt(rules.policy(), f, attempts, now)));
                rescheduled = true;
            } else {
                fates.add(new Waits(f));
            }
        }
        return fates.isEmpty() ? new Delivered() : new PerEvent(fates);
    }

    /**
     * The failures for the events' data not blamed on one event (a destination that could only say "this request was
     * refused", e.g. a webhook chunk answered 400): one of these events, or several, is why.
     */
    static List<EventFailure> refusedTogether(List<EventFailure> failures) {
        return failures.stream()
                .filter(f -> f.error().failureClass() == FailureClass.EVENT_DATA
                        && f.error().messageId() == null)
                .toList();
    }

    /**
     * A row's attempts once {@code failure} is recorded ({@code claimed}: as claimed, counting this claim's attempt):
     * failures that use no attempt give the claim's back; when the attempt {@code progressed} (settled some of the
     * rest), the count starts again from it: the attempts of a row count the tries of what is left.
     */
    static int attemptsAfter(int claimed, DeliveryException failure, boolean progressed) {
        if (progressed) return failure.usesAttempt() ? 1 : 0;
        return failure.usesAttempt() ? claimed : claimed - 1;
    }

    /** The failure that decides a batch's retry: one that uses up an attempt if any did, else the longest Retry-After. */
    static EventFailure decisive(List<EventFailure> failures) {
        return failures.stream()
                .filter(f -> f.error().usesAttempt())
                .findFirst()
                .orElseGet(() -> failures.stream()
                        .max(Comparator.comparing(f -> f.retryAfter() == null ? Duration.ZERO : f.retryAfter()))
                        .orElseThrow());
    }

    /**
     * When to try a failed event again: a request never sent (open circuit, destination paused by Retry-After) comes
     * back exactly when the destination may be called again, so waiting events go out together when it reopens; any
     * other failure follows the backoff, and a destination's Retry-After wins if later.
     */
    static Instant nextAttempt(RetryPolicy policy, EventFailure failure, int attempts, Instant now) {
        return nextAttempt(policy, failure.error(), failure.retryAfter(), attempts, now);
    }

    /** {@link #nextAttempt(RetryPolicy, EventFailure, int, Instant)} for a failure with its Retry-After (or null). */
    static Instant nextAttempt(
            RetryPolicy policy, DeliveryException failure, Duration retryAfter, int attempts, Instant now) {
        if (failure.failureClass() == FailureClass.NOT_SENT && retryAfter != null && retryAfter.isPositive()) {
            return now.plus(retryAfter);
        }
        return policy.nextAttempt(Math.max(1, attempts), retryAfter, now);
    }
}
