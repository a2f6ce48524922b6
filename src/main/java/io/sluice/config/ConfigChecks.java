package io.sluice.config;

import io.sluice.config.ConfigSchema.Node;
import io.sluice.config.ConfigSchema.Section;
import io.sluice.config.ServerSchema.Collector;
import io.sluice.config.ServerSchema.Kafka;
import io.sluice.config.ServerSchema.Worker;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.config.SluiceConfig.FetchSettings;
import io.sluice.config.SluiceConfig.RetrySettings;
import io.sluice.config.SluiceConfig.SyncSettings;
import java.time.Duration;

/**
 * The cross-field pass of the configuration step: pairs of keys that are each valid alone but contradict each other.
 * Every command runs it (through {@link ConfigLoader}); each refusal is one {@link ConfigException} naming the key
 * to change and the key it contradicts. Rules:
 *
 * <ul>
 *   <li>{@code collector.maxInFlightBytes >= collector.maxRequestSize} (else no request fits) and
 *       {@code collector.maxEventSize <= collector.maxRequestSize};
 *   <li>{@code collector.maxEventSize <= 960KB}: Sluice's producer keeps Kafka's 1 MiB {@code max.request.size},
 *       and an event's record also carries its key and headers;
 *   <li>{@code kafka.minInsyncReplicas <= kafka.replicationFactor} (else no write is ever acknowledged);
 *   <li>{@code worker.retryCap >= worker.retryBase}, and {@code retry.cap >= retry.base} in every destination;
 *   <li>{@code worker.heartbeatInterval <= worker.leaseDuration / 3}: a lease outlives two late heartbeats, so a
 *       slow heartbeat statement does not hand a batch to another worker;
 *   <li>a webhook's {@code circuitBreaker.minimumCalls <= circuitBreaker.window} (else the circuit never opens);
 *   <li>a sync's {@code fetch.allowHosts} only with a {@code function} (nothing else could call), its
 *       {@code fetch.timeout} above 0 and {@code fetch.batchTimeout >= fetch.timeout} (else no call could finish).
 * </ul>
 *
 * What only a destination type can judge (e.g. a Kafka destination's {@code producer.delivery.timeout.ms} against
 * its {@code request.timeout.ms}) is checked by its factory in the same step ({@code runtime.Configuration}).
 */
final class ConfigChecks {
    /** Kafka's default {@code max.request.size} (1 MiB), less room for a record's key, headers and framing. */
    static final long MAX_EVENT_SIZE = 1024 * 1024 - 64 * 1024;

    private ConfigChecks() {}

    static SluiceConfig check(SluiceConfig config) {
        collector(config.collector());
        kafka(config.kafka());
        worker(config.worker());
        for (DestinationSettings destination : config.destinations()) destination(destination);
        for (int i = 0; i < config.syncs().size(); i++) fetch(i, config.syncs().get(i));
        return config;
    }

    private static void collector(SluiceConfig.CollectorSettings c) {
        if (c.maxInFlightBytes() < c.maxRequestSize()) {
            throw new ConfigException(
                    path(Collector.SECTION, Collector.MAX_IN_FLIGHT_BYTES),
                    "must be at least " + path(Collector.SECTION, Collector.MAX_REQUEST_SIZE) + " ("
                            + c.maxRequestSize() + " bytes)");
        }
        if (c.maxEventSize() > c.maxRequestSize()) {
            throw new ConfigException(
                    path(Collector.SECTION, Collector.MAX_EVENT_SIZE),
                    "must not exceed " + path(Collector.SECTION, Collector.MAX_REQUEST_SIZE));
        }
        if (c.maxEventSize() > MAX_EVENT_SIZE) {
            throw new ConfigException(
                    path(Collector.SECTION, Collector.MAX_EVENT_SIZE),
                    "is " + c.maxEventSize() + " bytes, above " + MAX_EVENT_SIZE
                            + " (960KB): Kafka refuses records above its 1 MiB max.request.size, and a record also"
                            + " holds the event's key and headers");
        }
    }

    /** min.insync.replicas above the replication factor could never acknowledge anything: refused here, not at the first request. */
    private static void kafka(SluiceConfig.KafkaSettings k) {
        if (k.replicationFactor() > 0 && k.minInsyncReplicas() > k.replicationFactor()) {
            throw new ConfigException(
                    path(Kafka.SECTION, Kafka.MIN_INSYNC_REPLICAS),
                    "is " + k.minInsyncReplicas() + ", above " + path(Kafka.SECTION, Kafka.REPLICATION_FACTOR) + "="
                            + k.replicationFactor() + ": no write could ever be acknowledged");
        }
    }

    private static void worker(SluiceConfig.WorkerSettings w) {
        if (w.retryCap().compareTo(w.retryBase()) < 0) {
            throw new ConfigException(
                    path(Worker.SECTION, Worker.RETRY_CAP),
                    "is " + text(w.retryCap()) + ", below " + path(Worker.SECTION, Worker.RETRY_BASE) + " ("
                            + text(w.retryBase()) + "): the longest retry delay cannot be shorter than the first");
        }
        if (w.heartbeatInterval().multipliedBy(3).compareTo(w.leaseDuration()) > 0) {
            throw new ConfigException(
                    path(Worker.SECTION, Worker.HEARTBEAT_INTERVAL),
                    "is " + text(w.heartbeatInterval()) + ", must be at most a third of "
                            + path(Worker.SECTION, Worker.LEASE_DURATION) + " (" + text(w.leaseDuration())
                            + ") so that a lease outlives a late heartbeat");
        }
    }

    private static void destination(DestinationSettings destination) {
        switch (destination) {
            case DestinationSettings.Warehouse warehouse -> {}
            case DestinationSettings.Webhook webhook -> {
                retry(webhook, webhook.retry(), DestinationSchema.Webhook.RETRY);
                var breaker = webhook.circuitBreaker();
                if (breaker.minimumCalls() > breaker.window()) {
                    Section section = DestinationSchema.Webhook.CIRCUIT_BREAKER;
                    throw new ConfigException(
                            key(webhook, section, DestinationSchema.Webhook.MINIMUM_CALLS),
                            "is " + breaker.minimumCalls() + ", above "
                                    + path(section, DestinationSchema.Webhook.WINDOW) + " (" + breaker.window()
                                    + "): the window never holds enough requests to open the circuit");
                }
            }
            case DestinationSettings.Kafka kafka -> retry(kafka, kafka.retry(), DestinationSchema.Kafka.RETRY);
        }
    }

    private static void fetch(int index, SyncSettings sync) {
        FetchSettings fetch = sync.fetch();
        String at = "syncs[" + index + "]." + FetchSchema.SECTION.name() + ".";
        if (sync.hasFetch() && !sync.hasFunction()) {
            throw new ConfigException(
                    at + FetchSchema.ALLOW_HOSTS.name(),
                    "is set but sync '" + sync.id() + "' has no function that could call those hosts");
        }
        if (fetch.timeout().isZero()) throw new ConfigException(at + FetchSchema.TIMEOUT.name(), "must be above 0");
        if (fetch.batchTimeout().compareTo(fetch.timeout()) < 0) {
            throw new ConfigException(
                    at + FetchSchema.BATCH_TIMEOUT.name(),
                    "is " + text(fetch.batchTimeout()) + ", below " + at + FetchSchema.TIMEOUT.name() + " ("
                            + text(fetch.timeout()) + "): not even one call could finish in a batch");
        }
    }

    private static void retry(DestinationSettings destination, RetrySettings retry, DestinationSchema.Retry keys) {
        if (retry.cap().compareTo(retry.base()) < 0) {
            throw new ConfigException(
                    key(destination, keys.section, keys.cap),
                    "is " + text(retry.cap()) + ", below " + path(keys.section, keys.base) + " (" + text(retry.base())
                            + "): the longest retry delay cannot be shorter than the first");
        }
    }

    /** A duration as the file writes it: 500ms, 5s, 2m, 1h, 1d. */
    static String text(Duration duration) {
        long millis = duration.toMillis();
        if (millis % 1000 != 0 || millis == 0) return millis + "ms";
        long seconds = millis / 1000;
        if (seconds % 86_400 == 0) return seconds / 86_400 + "d";
        if (seconds % 3600 == 0) return seconds / 3600 + "h";
        if (seconds % 60 == 0) return seconds / 60 + "m";
        return seconds + "s";
    }

    private static String path(Section section, Node key) {
        return section.name() + "." + key.name();
    }

    /** How destination keys are named in messages: {@code destination 'hooks' retry.cap}. */
    private static String key(DestinationSettings destination, Section section, Node key) {
        return "destination '" + destination.id() + "' " + path(section, key);
    }
}
