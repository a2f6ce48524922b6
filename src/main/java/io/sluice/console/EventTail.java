package io.sluice.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.kafka.KafkaClients;
import io.sluice.lifecycle.Service;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live debugger's source: the tail of the events topic (what every collector replica accepted), of the
 * rejections topic (what they refused) and of the violations topic (contract outcomes), read with a group-less
 * consumer so it never joins or disturbs the planners' group. Keeps the last {@link #KEEP} items per source and kind
 * and hands each new one to the listeners. Started on first use: a process whose console nobody opens reads nothing.
 */
final class EventTail implements Service {
    private static final Logger log = LoggerFactory.getLogger(EventTail.class);
    static final int KEEP = 100;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One debugger item: kind is event, rejection or violation; json the stored record, with partition and offset. */
    record Item(String kind, String sourceId, ObjectNode json) {}

    private final KafkaClients clients;
    private final Map<String, String> kindByTopic;
    private final Map<String, Deque<Item>> recent = new HashMap<>();
    private final List<Consumer<Item>> listeners = new CopyOnWriteArrayList<>();
    private final Map<TopicPartition, Long> next = new HashMap<>(); // only the tail thread uses it
    private volatile boolean running;
    private volatile boolean closed;
    private Thread thread;

    EventTail(KafkaClients clients, String eventsTopic, String rejectionsTopic, String violationsTopic) {
        this.clients = clients;
        this.kindByTopic = Map.of(eventsTopic, "event", rejectionsTopic, "rejection", violationsTopic, "violation");
    }

    @Override
    public synchronized void start() {
        if (running || closed) return;
        running = true;
        thread = Thread.ofPlatform().name("sluice-console-tail").daemon().start(this::run);
    }

    /** The kept items of a source, oldest first (events, rejections and violations together). */
    synchronized List<Item> recent(String sourceId) {
        List<Item> items = new ArrayList<>();
        for (String kind : Set.of("event", "rejection", "violation")) {
            Deque<Item> kept = recent.get(kind + ':' + sourceId);
            if (kept != null) items.addAll(kept);
        }
        items.sort((a, b) -> a.json()
                .path("receivedAt")
                .asText("")
                .compareTo(b.json().path("receivedAt").asText("")));
        return items;
    }

    void listen(Consumer<Item> listener) {
        listeners.add(listener);
    }

    void unlisten(Consumer<Item> listener) {
        listeners.remove(listener);
    }

    private void run() {
        while (running) {
            try (KafkaConsumer<byte[], byte[]> consumer = clients.consumer(Map.of(
                    ConsumerConfig.CLIENT_ID_CONFIG,
                    "sluice-console-tail",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                    false,
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                    "latest",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                    "read_committed",
                    ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                    100))) {
                List<TopicPartition> partitions = partitions(consumer);
                consumer.assign(partitions);
                // Start a little before the end, so the debugger opens with the most recent items.
                Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
                Map<TopicPartition, Long> begins = consumer.beginningOffsets(partitions);
                // Where an earlier round stopped, it goes on from there instead (no item twice).
                for (TopicPartition tp : partitions) {
                    Long resume = next.get(tp);
                    consumer.seek(
                            tp,
                            resume != null
                                    ? Math.max(resume, begins.get(tp))
                                    : Math.max(begins.get(tp), ends.get(tp) - KEEP));
                }
                long refreshAt = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (running && System.nanoTime() < refreshAt) {
                    for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                        accept(record);
                        next.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
                    }
                }
            } catch (Exception e) {
                if (!running) return;
                log.warn("The console's event tail failed ({}); retrying", e.toString());
                sleep(Duration.ofSeconds(1));
            }
        }
    }

    /** Every partition of the three topics that exist now (re-read every 30 s: the violations topic may come later). */
    private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer) {
        List<TopicPartition> partitions = new ArrayList<>();
        Map<String, List<PartitionInfo>> topics = consumer.listTopics(Duration.ofSeconds(10));
        for (String topic : kindByTopic.keySet()) {
            Collection<PartitionInfo> infos = topics.get(topic);
            if (infos != null) infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        return partitions;
    }

    private void accept(ConsumerRecord<byte[], byte[]> record) {
        String kind = kindByTopic.get(record.topic());
        JsonNode parsed;
        try {
            parsed = JSON.readTree(new String(record.value(), StandardCharsets.UTF_8));
        } catch (Exception e) {
            return; // not JSON: nothing a debugger could show
        }
        List<ObjectNode> objects = new ArrayList<>();
        if (parsed instanceof ObjectNode object) objects.add(object);
        else if (parsed != null && parsed.isArray())
            parsed.forEach(v -> {
                if (v instanceof ObjectNode o) objects.add(o);
            });
        for (ObjectNode json : objects) {
            if (kind.equals("violation"))
                json.put("receivedAt", json.path("occurredAt").asText(""));
            ObjectNode wrapped = JSON.createObjectNode();
            wrapped.put("partition", record.partition()).put("offset", record.offset());
            wrapped.set("record", json);
            wrapped.put("receivedAt", json.path("receivedAt").asText(""));
            Item item = new Item(kind, json.path("sourceId").asText("unknown"), wrapped);
            synchronized (this) {
                Deque<Item> kept = recent.computeIfAbsent(kind + ':' + item.sourceId(), k -> new ArrayDeque<>());
                kept.addLast(item);
                while (kept.size() > KEEP) kept.removeFirst();
            }
            for (Consumer<Item> listener : listeners) {
                try {
                    listener.accept(item);
                } catch (RuntimeException e) {
                    listeners.remove(listener);
                }
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        running = false;
        if (thread != null) {
            try {
                thread.join(Duration.ofSeconds(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
