package io.sluice.event;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * An event read from JSON bytes that keeps them: written out again (by any Jackson serialisation, {@link #toString()}
 * or {@link #bytes(ObjectNode)}) it is those very bytes, not Jackson's re-serialisation of the tree. The tree alone
 * would alter what was accepted: {@code 1.10} becomes {@code 1.1}, {@code 1E2} becomes {@code 100.0}, {@code -0}
 * becomes {@code 0}, escapes change their spelling. The worker reads each Kafka record as one of these; the retry
 * queue and the dead letters store {@link #bytes(ObjectNode)} and read their rows back as these, so a retry or a
 * replay sends exactly what the collector accepted (docs/reliability.md, "What is stored").
 *
 * <p>Never mutated: nothing after the read changes an event (a function's outputs are new trees). Code that wants to
 * change one works on {@link #deepCopy()}, a plain {@link ObjectNode} that serialises as its tree.
 */
public final class ExactEvent extends ObjectNode {
    /**
     * The bytes of the event being read on this thread, until the reader asks for its first object node: the root,
     * which becomes the {@link ExactEvent} itself (the reader creates the root before its fields), so the fields are
     * read into its own map, not into a tree's map copied afterwards.
     */
    private static final ThreadLocal<byte[]> ROOT = new ThreadLocal<>();

    private static final JsonNodeFactory FACTORY = new JsonNodeFactory() {
        @Override
        public ObjectNode objectNode() {
            byte[] json = ROOT.get();
            if (json == null) return super.objectNode();
            ROOT.set(null);
            return new ExactEvent(this, json);
        }
    };
    private static final ObjectMapper MAPPER = new ObjectMapper().setNodeFactory(FACTORY);

    private final byte[] json;

    private ExactEvent(JsonNodeFactory factory, byte[] json) {
        super(factory);
        this.json = json;
    }

    /** The JSON value in {@code json}: an {@link ExactEvent} when it is an object, else the plain tree. */
    public static JsonNode parse(byte[] json) throws IOException {
        // Only UTF-8 that starts with the object itself is kept (what the collector writes): bytes Jackson read as
        // UTF-16 or after a byte-order mark would not be valid JSON text inside a request body or an array.
        boolean keep = json.length > 0 && json[0] == '{' && !(json.length > 1 && json[1] == 0);
        if (!keep) return MAPPER.readTree(json);
        ROOT.set(json);
        try {
            return MAPPER.readTree(json);
        } finally {
            ROOT.set(null);
        }
    }

    /** As {@link #parse}, for bytes that must hold a JSON object (an {@link ExactEvent} when its bytes can be kept). */
    public static ObjectNode of(byte[] json) throws IOException {
        if (parse(json) instanceof ObjectNode event) return event;
        throw new IOException("not a JSON object");
    }

    /**
     * The event's JSON bytes: the bytes it was read from for an {@link ExactEvent}, else Jackson's serialisation of the
     * tree (a function's output, say). The returned array must not be changed.
     */
    public static byte[] bytes(ObjectNode event) {
        if (event instanceof ExactEvent exact) return exact.json;
        try {
            return MAPPER.writeValueAsBytes(event);
        } catch (IOException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }

    /** Jackson's {@code toString} walks the tree itself (not through {@link #serialize}): the bytes as text. */
    @Override
    public String toString() {
        return new String(json, StandardCharsets.UTF_8);
    }

    @Override
    public void serialize(JsonGenerator g, SerializerProvider provider) throws IOException {
        g.writeRawValue(new String(json, StandardCharsets.UTF_8));
    }
}
