package io.sluice.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;

/**
 * The few fields routing needs, pulled from a record without building the event: the source from the key
 * ({@code source:user}), and {@code type} and {@code event} from the record's headers ({@link RoutingHeaders}), or,
 * for a record written before the collector wrote headers, from the top level of the value.
 */
public record EventHeader(String source, String type, String event) {
    private static final JsonFactory JSON = new JsonFactory();

    public static String sourceOf(byte[] key) {
        if (key == null) return null;
        String text = new String(key, StandardCharsets.UTF_8);
        int colon = text.indexOf(':');
        return colon < 0 ? text : text.substring(0, colon);
    }

    /** Reads the fields from the headers when the record has them, else from the value ({@link #read(byte[], byte[])}). */
    public static EventHeader read(byte[] key, byte[] value, Headers headers) {
        if (!RoutingHeaders.present(headers)) return read(key, value);
        return new EventHeader(
                sourceOf(key),
                RoutingHeaders.text(headers, RoutingHeaders.TYPE),
                RoutingHeaders.text(headers, RoutingHeaders.EVENT));
    }

    /** Reads the fields from the value; fields it cannot find are null (a malformed value matches no filter). */
    public static EventHeader read(byte[] key, byte[] value) {
        String type = null;
        String event = null;
        if (value != null) {
            try (JsonParser parser = JSON.createParser(value)) {
                if (parser.nextToken() == JsonToken.START_OBJECT) {
                    while (parser.nextToken() == JsonToken.FIELD_NAME && (type == null || event == null)) {
                        String name = parser.currentName();
                        JsonToken token = parser.nextToken();
                        if (token == JsonToken.VALUE_STRING && name.equals("type")) type = parser.getText();
                        else if (token == JsonToken.VALUE_STRING && name.equals("event")) event = parser.getText();
                        else parser.skipChildren();
                    }
                }
            } catch (IOException e) {
                // not JSON: no type, so filters with types do not match it
            }
        }
        return new EventHeader(sourceOf(key), type, event);
    }
}
