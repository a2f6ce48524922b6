package io.sluice.planner;

import io.sluice.event.RoutingHeaders;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * What the planner's consumer makes of a record: it plans from the key's source, the routing headers and the
 * value's size ({@code ConsumerRecord.serializedValueSize()}), so it does not copy what it does not read. With
 * {@code ByteArrayDeserializer} every value was copied out of the fetch buffer into a byte[] (~570 bytes per event,
 * a tenth of all the process's allocation at 20,000 events/s; docs/performance.md "Collector, planner and warm-up").
 */
final class PlannerRecords {
    private PlannerRecords() {}

    /** The key's source id (the text before the first ':' of {@code source:user}), decoded without copying the key. */
    static final class SourceDeserializer implements Deserializer<String> {
        @Override
        public String deserialize(String topic, byte[] data) {
            return data == null ? null : deserialize(topic, null, ByteBuffer.wrap(data));
        }

        @Override
        public String deserialize(String topic, Headers headers, ByteBuffer data) {
            if (data == null) return null;
            int start = data.position();
            int end = data.limit();
            for (int i = start; i < end; i++) {
                if (data.get(i) == ':') {
                    end = i;
                    break;
                }
            }
            if (data.hasArray()) {
                return new String(data.array(), data.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
            }
            byte[] bytes = new byte[end - start];
            data.get(start, bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /**
     * The value only when the planner has to read it: records without routing headers (written by a collector
     * older than the headers) are routed by their JSON; for the others the value is null, and its size comes from
     * the record.
     */
    static final class RoutingValueDeserializer implements Deserializer<byte[]> {
        @Override
        public byte[] deserialize(String topic, byte[] data) {
            return data;
        }

        @Override
        public byte[] deserialize(String topic, Headers headers, ByteBuffer data) {
            if (data == null || RoutingHeaders.present(headers)) return null;
            byte[] bytes = new byte[data.remaining()];
            data.get(data.position(), bytes);
            return bytes;
        }
    }
}
