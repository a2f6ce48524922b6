package io.sluice.contract;

import io.sluice.kafka.EventsTopic;
import io.sluice.kafka.KafkaClients;
import io.sluice.kafka.TopicSetup;
import io.sluice.retry.RetryPolicy;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The violations topic, created by whichever of collector or violation writer starts first. Violations are records
 * about events, not events: a process does not refuse to start because this topic could not be set up (the
 * producer and the consumer wait for it), it says so in the log.
 */
public final class ViolationsTopic {
    private static final Logger log = LoggerFactory.getLogger(ViolationsTopic.class);
    /** Partitions when Sluice creates the topic. */
    static final int PARTITIONS = TopicSetup.VIOLATIONS_PARTITIONS;

    private static final RetryPolicy SETUP_RETRIES =
            RetryPolicy.attempts(3, Duration.ofMillis(300), Duration.ofSeconds(1));

    private ViolationsTopic() {}

    /** True when the topic exists with leaders; a few tries, since a topic another process just created may not be visible yet. */
    public static boolean ensure(KafkaClients kafka, String topic) {
        try {
            SETUP_RETRIES.call(
                    Clock.systemUTC(), RetryPolicy.Sleeper.THREAD, e -> e instanceof RuntimeException, attempt -> {
                        EventsTopic.ensure(kafka, topic, PARTITIONS, null); // any partition count serves violations
                        return null;
                    });
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            log.warn(
                    "Could not set up the violations topic {} ({}); violations wait until it exists",
                    topic,
                    e.getMessage());
            return false;
        }
    }
}
