package io.sluice.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The short-lived topic of refused tracking requests ({@code <events topic>.rejections}): every collector replica
 * publishes what it refused, so the console's live debugger shows them whichever replica served the request. It is
 * a debugging aid, not a record: one partition, kept for {@link #RETENTION}.
 */
public final class RejectionsTopic {
    public static final Duration RETENTION = Duration.ofHours(1);

    private RejectionsTopic() {}

    public static String name(String eventsTopic) {
        return eventsTopic + ".rejections";
    }

    /** Creates the topic when missing; throws when the cluster cannot be asked. */
    public static void ensure(KafkaClients kafka, String topic) throws Exception {
        try (Admin admin = kafka.admin(Map.of(
                AdminClientConfig.CLIENT_ID_CONFIG,
                "sluice-setup",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                10_000,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
                10_000))) {
            if (admin.listTopics().names().get(10, TimeUnit.SECONDS).contains(topic)) return;
            NewTopic newTopic = new NewTopic(topic, Optional.of(1), Optional.empty())
                    .configs(Map.of("retention.ms", Long.toString(RETENTION.toMillis()), "cleanup.policy", "delete"));
            try {
                admin.createTopics(List.of(newTopic)).all().get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
        }
    }
}
