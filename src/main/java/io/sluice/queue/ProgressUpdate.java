package io.sluice.queue;

/**
 * Moves a sync's planning position in a partition from {@code expected} (null: no position stored yet) to
 * {@code next}. The expectation fences planners: a planner whose view is stale cannot move the position.
 */
public record ProgressUpdate(String syncId, int partition, Long expected, long next) {}
