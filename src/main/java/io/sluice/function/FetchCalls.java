package io.sluice.function;

/**
 * Where a batch's {@code fetch} calls go: the sync's real {@link FetchClient}, or the {@link MockResponses} of a
 * trial ({@code sluice function test --mock FILE}). Called on a virtual thread; never throws.
 */
interface FetchCalls {
    FetchClient.Outcome call(FetchClient.Request request, long deadlineNanos);
}
