package io.sluice.admin;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Whether every partition of a topic can take an {@code acks=all} write now. Metadata says who leads and who is in
 * sync, but it is only as fresh as the controller quorum: with two of three KRaft nodes dead nobody fences them, and
 * the survivor's metadata still names them. So each broker named as a leader or in-sync replica is also asked
 * directly (a small DescribeConfigs sent to that very broker); a partition counts as writable only when its leader
 * and at least min.insync.replicas of its in-sync replicas answered.
 */
final class PartitionWritability {
    private static final long PROBE_MILLIS = 1500;
    private static final long MIN_ISR_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Admin admin;
    private final String topic;
    private int minInsyncReplicas = 1;
    private long minIsrReadAt;

    PartitionWritability(Admin admin, String topic) {
        this.admin = admin;
        this.topic = topic;
    }

    KafkaHealth.Status check() throws Exception {
        TopicDescription description = admin.describeTopics(List.of(topic))
                .allTopicNames()
                .get(2, TimeUnit.SECONDS)
                .get(topic);
        int minIsr = minInsyncReplicas();
        Set<Integer> named = new HashSet<>();
        for (TopicPartitionInfo p : description.partitions()) {
            if (p.leader() != null && !p.leader().isEmpty())
                named.add(p.leader().id());
            p.isr().forEach(n -> named.add(n.id()));
        }
        Set<Integer> answering = answering(named);
        int leaderless = 0;
        int underMinIsr = 0;
        for (TopicPartitionInfo p : description.partitions()) {
            Node leader = p.leader();
            if (leader == null || leader.isEmpty() || !answering.contains(leader.id())) {
                leaderless++;
            } else if (p.isr().stream().filter(n -> answering.contains(n.id())).count() < minIsr) {
                underMinIsr++;
            }
        }
        int partitions = description.partitions().size();
        List<Integer> silent = new ArrayList<>(named);
        silent.removeAll(answering);
        String brokers = silent.isEmpty() ? "" : "; broker(s) " + KafkaHealth.ids(silent) + " not answering";
        if (leaderless == 0 && underMinIsr == 0) {
            return new KafkaHealth.Status(
                    true,
                    partitions + "/" + partitions + " partitions of " + topic + " writable (leader and >= " + minIsr
                            + " in-sync replicas answering)" + brokers);
        }
        return new KafkaHealth.Status(
                false,
                leaderless + " of " + partitions + " partitions of " + topic + " without a reachable leader, "
                        + underMinIsr + " with fewer than min.insync.replicas=" + minIsr + " reachable in-sync replicas"
                        + brokers);
    }

    /** The brokers among {@code ids} that answered a request sent to them within the probe time. */
    private Set<Integer> answering(Set<Integer> ids) {
        Map<Integer, ConfigResource> resources = new HashMap<>();
        for (int id : ids) resources.put(id, new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(id)));
        var result = admin.describeConfigs(
                        resources.values(), new DescribeConfigsOptions().timeoutMs((int) PROBE_MILLIS))
                .values();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PROBE_MILLIS + 200);
        Set<Integer> answering = new HashSet<>();
        for (var entry : resources.entrySet()) {
            try {
                result.get(entry.getValue()).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                answering.add(entry.getKey());
            } catch (Exception e) {
                // not answering: dead, partitioned away, or shutting down
            }
        }
        return answering;
    }

    private int minInsyncReplicas() {
        if (minIsrReadAt != 0 && System.nanoTime() - minIsrReadAt < MIN_ISR_REFRESH_NANOS) return minInsyncReplicas;
        try {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            var entry = admin.describeConfigs(List.of(resource))
                    .all()
                    .get(2, TimeUnit.SECONDS)
                    .get(resource)
                    .get("min.insync.replicas");
            minInsyncReplicas = entry == null ? 1 : Integer.parseInt(entry.value());
            minIsrReadAt = System.nanoTime();
        } catch (Exception e) {
            // keep the last known value; the next check tries again
        }
        return minInsyncReplicas;
    }
}
