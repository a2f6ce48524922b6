package io.sluice.worker;

import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.QueueStore;
import io.sluice.queue.RetryStore;

/**
 * The queue-database stores a worker writes through.
 *
 * @param queue batches: claims, heartbeats, completions, pruning
 * @param retries the per-sync retry queue, or null when no destination reports single events as failed
 * @param deadLetters where undeliverable events go (pruned by the worker), or null in tests without them
 */
public record WorkerStores(QueueStore queue, RetryStore retries, DeadLetterStore deadLetters) {}
