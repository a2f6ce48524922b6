package io.sluice.contract;

import io.sluice.kafka.EventsTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The violations topic, created by whichever of collector or violation writer starts first. Violations are records
 * about events, not events: a process does not refuse to start because this topic could not be set up (the
 * producer and the consumer wait for it), it says so in the log.
 */
final class ViolationsTopic {
    private static final Logger log = LoggerFactory.getLogger(ViolationsTopic.class);
    /** Partitions when Sluice creates the topic. */
    static final int PARTITIONS = io.sluice.kafka.TopicSetup.VIOLATIONS_PARTITIONS;

    private ViolationsTopic() {}

    /** True when the topic exists with leaders; a few tries, since a topic another process just created may not be visible yet. */
    static boolean ensure(String bootstrapServers, String topic) {
        for (int attempt = 1; ; attempt++) {
            try {
                EventsTopic.ensure(bootstrapServers, topic, PARTITIONS, null); // any partition count serves violations
                return true;
            } catch (RuntimeException e) {
                if (attempt == 3) {
                    log.warn("Could not set up the violations topic {} ({}); violations wait until it exists", topic, e.getMessage());
                    return false;
                }
                try {
                    Thread.sleep(300L * attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
    }
}
