package io.sluice.destination.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig.DestinationSettings;
import io.sluice.destination.DeliveryBatch;
import io.sluice.destination.DeliveryReport;
import io.sluice.destination.DeliveryReport.EventFailure;
import io.sluice.destination.DestinationContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Builds webhook destinations from YAML (through the real config loader), events and batches for the tests. */
final class Webhooks {
    static final ObjectMapper MAPPER = new ObjectMapper();
    private static final AtomicLong OFFSETS = new AtomicLong();

    private Webhooks() {}

    /** The settings of destination 'hooks': {@code url} plus further keys, one per line in YAML ("mode: batch"). */
    static DestinationSettings.Webhook settings(String url, String... keys) {
        StringBuilder yaml =
                new StringBuilder("""
                sources: [{id: web, writeKey: k}]
                destinations:
                  - id: hooks
                    type: webhook
                """).append("    url: ").append(url).append('\n');
        for (String key : keys) yaml.append("    ").append(key).append('\n');
        return (DestinationSettings.Webhook)
                new ConfigLoader(Map.of()).loadYaml(yaml.toString()).destination("hooks");
    }

    static WebhookDestination destination(DestinationSettings.Webhook settings, MeterRegistry registry, Clock clock) {
        WebhookDestination destination = (WebhookDestination)
                new WebhookDestinationFactory().create(settings, DestinationContext.of(registry, clock));
        destination.open();
        return destination;
    }

    static ObjectNode event(String messageId, String userId) {
        ObjectNode event = MAPPER.createObjectNode();
        event.put("type", "track").put("event", "Order Completed").put("messageId", messageId);
        if (userId != null) event.put("userId", userId);
        event.putObject("properties").put("n", messageId);
        return event;
    }

    /** A batch as the worker builds it; each call has its own offsets (and so its own idempotency key). */
    static DeliveryBatch batch(List<ObjectNode> events) {
        long first = OFFSETS.getAndAdd(events.size());
        return new DeliveryBatch("hooks-sync", "web", first, 0, first, first + events.size() - 1, events);
    }

    static JsonNode json(byte[] body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String messageId(TestReceiver.Request request) {
        return json(request.body()).path("messageId").asText();
    }

    static List<String> failedIds(DeliveryReport report) {
        return report.failures().stream()
                .map(EventFailure::event)
                .map(e -> e.path("messageId").asText())
                .toList();
    }
}
