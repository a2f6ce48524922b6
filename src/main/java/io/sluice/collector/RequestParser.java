package io.sluice.collector;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams through a request body once with Jackson's parser: the envelope fields are read as they come and each
 * event is scanned in the same pass ({@link EventScan}: field offsets and the few values the rules need, no tree),
 * so its wire size is known and a batch over the event limit stops parsing at the first event too many. Parsing is strict, because whatever a lenient parser drops or alters is lost
 * silently: a duplicate key (a second "batch" would hide the first from validation), invalid UTF-8 and lone
 * surrogates ({@link StrictText}), and decimals a double cannot hold ({@link StrictNumbers}) are refused.
 */
final class RequestParser {
    private final ObjectMapper mapper;
    private final JsonFactory factory;
    private final int maxBatchEvents;

    RequestParser(ObjectMapper mapper, int maxBatchEvents) {
        this.mapper = mapper;
        this.factory = mapper.getFactory()
                .copy()
                .setStreamReadConstraints(
                        StreamReadConstraints.builder().maxNestingDepth(64).build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature());
        this.maxBatchEvents = maxBatchEvents;
    }

    /** A single-event endpoint: the whole body is the event. */
    ParsedRequest parseSingle(byte[] body) {
        StrictText.check(body);
        try (JsonParser parser = new StrictNumbers(factory.createParser(body))) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                mapper.readTree(parser); // a JSON error in what is not an object is reported as such
                throw Rejection.badRequest("invalid_json", "the body must be a JSON object");
            }
            EventScan event = EventScan.scan(parser, body, 0);
            if (parser.nextToken() != null)
                throw Rejection.badRequest("invalid_json", "unexpected content after the JSON object");
            String writeKey =
                    event.token(EventScan.WRITE_KEY) == JsonToken.VALUE_STRING ? event.text(EventScan.WRITE_KEY) : null;
            return new ParsedRequest(body, List.of(event), writeKey, null, null);
        } catch (JsonProcessingException e) {
            throw invalidJson(e);
        } catch (IOException e) {
            throw Rejection.badRequest("invalid_json", "the body could not be read");
        }
    }

    /** {@code {"batch": [...], "writeKey"?, "sentAt"?, "context"?}} as sent by /v1/batch, /v1/import and /v1/b. */
    ParsedRequest parseBatch(byte[] body) {
        StrictText.check(body);
        try (JsonParser parser = new StrictNumbers(factory.createParser(body))) {
            if (parser.nextToken() != JsonToken.START_OBJECT)
                throw Rejection.badRequest("invalid_json", "the body must be a JSON object");
            List<EventScan> events = null;
            String writeKey = null;
            String sentAt = null;
            ObjectNode context = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "batch" -> {
                        if (value != JsonToken.START_ARRAY)
                            throw Rejection.badRequest("invalid_field_type", "'batch' must be an array");
                        events = new ArrayList<>();
                        while (parser.nextToken() != JsonToken.END_ARRAY) {
                            int index = events.size();
                            if (index >= maxBatchEvents) {
                                throw Rejection.badRequest(
                                        "batch_too_large", "a batch may hold at most " + maxBatchEvents + " events");
                            }
                            if (parser.currentToken() != JsonToken.START_OBJECT) {
                                throw Rejection.badEvent(
                                        index, "invalid_event", "each event in 'batch' must be a JSON object");
                            }
                            events.add(EventScan.scan(parser, body, 0));
                        }
                    }
                    case "writeKey" -> writeKey = value == JsonToken.VALUE_STRING ? parser.getText() : skip(parser);
                    case "sentAt" -> {
                        if (value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL) {
                            throw Rejection.badRequest("invalid_field_type", "'sentAt' must be an ISO-8601 string");
                        }
                        sentAt = value == JsonToken.VALUE_NULL ? null : parser.getText();
                        if (sentAt != null && Timestamps.parse(sentAt) == null) {
                            throw Rejection.badRequest(
                                    "invalid_timestamp",
                                    "'sentAt' must be an ISO-8601 date-time string in the years 0001-9999");
                        }
                    }
                    case "context" -> {
                        if (value == JsonToken.START_OBJECT) context = mapper.readTree(parser);
                        else if (value != JsonToken.VALUE_NULL)
                            throw Rejection.badRequest("invalid_field_type", "'context' must be an object");
                    }
                    default -> skip(parser); // e.g. "integrations", "metadata": not per-event data
                }
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw Rejection.badRequest("invalid_json", "unexpected content after the JSON object");
            }
            if (events == null) throw Rejection.badRequest("missing_batch", "the body must have a 'batch' array");
            return new ParsedRequest(body, events, writeKey, sentAt, context);
        } catch (JsonProcessingException e) {
            throw invalidJson(e);
        } catch (IOException e) {
            throw Rejection.badRequest("invalid_json", "the body could not be read");
        }
    }

    private static String skip(JsonParser parser) throws IOException {
        parser.skipChildren();
        return null;
    }

    private static Rejection invalidJson(JsonProcessingException e) {
        var location = e.getLocation();
        String where =
                location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
        String message = e.getOriginalMessage();
        if (message != null && message.startsWith("Duplicate field")) {
            return Rejection.badRequest("duplicate_key", "the body repeats a key" + where + ": " + message);
        }
        return Rejection.badRequest("invalid_json", "the body is not valid JSON" + where + ": " + message);
    }
}
