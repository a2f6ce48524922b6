package io.sluice.config;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value types a configuration key can have; each converts and validates a raw string into a {@code T}, so a
 * {@link Key Key&lt;T&gt;} hands its reader a {@code T} and nothing is cast by name.
 */
public final class Kind<T> {
    /** How a value is written in YAML besides a single scalar. */
    enum Shape {
        SCALAR,
        /** A YAML list is accepted too (joined with commas before conversion). */
        LIST,
        /** A YAML mapping of names to single values (or {@code name=value,...} from the environment). */
        MAPPING
    }

    public static final Kind<String> STRING = scalar("a non-empty string", raw -> {
        if (raw.isBlank()) throw new IllegalArgumentException("must not be empty");
        return raw;
    });
    public static final Kind<String> OPTIONAL_STRING = scalar("a string", raw -> raw);
    public static final Kind<String> IDENTIFIER =
            scalar("an identifier of lower-case letters, digits, '_' or '-' (starting with a letter)", raw -> {
                if (!raw.matches("[a-z][a-z0-9_-]{0,62}"))
                    throw new IllegalArgumentException(
                            "must be an identifier of lower-case letters, digits, '_' or '-' (starting with a letter)");
                return raw;
            });
    public static final Kind<Integer> PORT = scalar("a TCP port 0-65535 (0 picks a free port)", raw -> {
        int port = parseInt(raw);
        if (port < 0 || port > 65535)
            throw new IllegalArgumentException("must be a TCP port 0-65535 (0 picks a free port)");
        return port;
    });
    public static final Kind<Integer> POSITIVE_INT = scalar("an integer >= 1", raw -> {
        int value = parseInt(raw);
        if (value < 1) throw new IllegalArgumentException("must be an integer >= 1");
        return value;
    });
    /** A share such as 0.5: more than 0, at most 1. */
    public static final Kind<Double> FRACTION = scalar("a fraction above 0 and at most 1, such as 0.5", raw -> {
        double value;
        try {
            value = Double.parseDouble(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be a fraction above 0 and at most 1, got '" + raw + "'");
        }
        if (!(value > 0 && value <= 1))
            throw new IllegalArgumentException("must be a fraction above 0 and at most 1, got '" + raw + "'");
        return value;
    });
    /** An integer >= 1, or "auto" (converted to 0): how many replicas a topic Sluice creates gets. */
    public static final Kind<Integer> REPLICAS = scalar("an integer >= 1 or 'auto'", raw -> {
        if (raw.trim().equalsIgnoreCase("auto")) return 0;
        int value = parseInt(raw);
        if (value < 1) throw new IllegalArgumentException("must be an integer >= 1 or 'auto'");
        return value;
    });

    public static final Kind<Duration> DURATION = scalar("a duration such as 500ms, 5s, 2m or 1h", Kind::parseDuration);
    public static final Kind<Long> SIZE = scalar("a size such as 512, 32KB or 64MB", Kind::parseSize);
    /** "embedded" or a comma-separated host:port list. */
    public static final Kind<String> KAFKA_SERVERS =
            scalar("'embedded' or a comma-separated list of host:port", raw -> {
                String value = raw.trim();
                if (value.equals("embedded")) return value;
                for (String hostPort : value.split(",")) {
                    if (!hostPort.trim().matches("[^:\\s]+:\\d{1,5}")) {
                        throw new IllegalArgumentException(
                                "must be 'embedded' or a comma-separated list of host:port, got '" + raw + "'");
                    }
                }
                return value;
            });
    /** "embedded" or a PostgreSQL JDBC URL (single host, multi-host, or cluster endpoint). */
    public static final Kind<String> JDBC_URL = scalar("'embedded' or a jdbc:postgresql:// URL", raw -> {
        String value = raw.trim();
        if (value.equals("embedded") || value.startsWith("jdbc:postgresql://")) return value;
        throw new IllegalArgumentException("must be 'embedded' or a jdbc:postgresql:// URL, got '" + raw + "'");
    });

    public static final Kind<Boolean> BOOLEAN =
            scalar("true or false", raw -> switch (raw.trim().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on" -> true;
                case "false", "no", "off" -> false;
                default -> throw new IllegalArgumentException("must be true or false, got '" + raw + "'");
            });
    public static final Kind<String> HTTP_URL = scalar("an http:// or https:// URL", raw -> {
        try {
            URI uri = URI.create(raw.trim());
            if ((!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) || uri.getHost() == null)
                throw new IllegalArgumentException();
            return uri.toString();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be an http:// or https:// URL, got '" + raw + "'");
        }
    });
    /** An http(s) URL, or empty for none. */
    public static final Kind<String> OPTIONAL_HTTP_URL =
            scalar("an http:// or https:// URL, or empty", raw -> raw.isBlank() ? "" : HTTP_URL.convert(raw));

    public static final Kind<String> WEBHOOK_MODE = scalar("event or batch", raw -> {
        String mode = raw.trim();
        if (!mode.equals("event") && !mode.equals("batch"))
            throw new IllegalArgumentException("must be 'event' or 'batch', got '" + raw + "'");
        return mode;
    });
    /** "" (no limit), "200/s" (requests per second) or "5000 events/s". */
    public static final Kind<StartFrom> START_FROM =
            scalar("earliest, latest or an ISO-8601 instant (2026-05-01T00:00:00Z)", StartFrom::parse);

    public static final Kind<String> RATE = scalar("a rate such as 200/s or 5000 events/s (empty: unlimited)", raw -> {
        String text = raw.trim();
        if (text.isEmpty()) return "";
        if (!text.matches("\\d+(\\.\\d+)?\\s*(events)?\\s*/\\s*s"))
            throw new IllegalArgumentException("must be a rate such as 200/s or 5000 events/s, got '" + raw + "'");
        return text;
    });

    public static final Kind<List<String>> STRING_LIST = new Kind<>("a list of strings", Shape.LIST, raw -> {
        List<String> items = new ArrayList<>();
        for (String part : raw.split(",")) {
            if (!part.isBlank()) items.add(part.trim());
        }
        return List.copyOf(items);
    });
    public static final Kind<List<String>> EVENT_TYPE_LIST =
            new Kind<>("a list of event types (track, identify, page, screen, group, alias)", Shape.LIST, raw -> {
                List<String> items = new ArrayList<>();
                for (String part : raw.split(",")) {
                    String type = part.trim();
                    if (type.isEmpty()) continue;
                    if (!List.of("track", "identify", "page", "screen", "group", "alias")
                            .contains(type)) {
                        throw new IllegalArgumentException(
                                "'" + type + "' is not an event type (track, identify, page, screen, group, alias)");
                    }
                    items.add(type);
                }
                return List.copyOf(items);
            });
    public static final Kind<List<Cidr>> CIDR_LIST =
            new Kind<>("a list of CIDRs such as 10.0.0.0/8", Shape.LIST, raw -> {
                List<Cidr> cidrs = new ArrayList<>();
                for (String part : raw.split(",")) {
                    if (!part.isBlank()) cidrs.add(Cidr.parse(part.trim()));
                }
                return List.copyOf(cidrs);
            });
    /**
     * A mapping of names to single values (header names, client property names), in the file's order. From an
     * environment override it is written {@code name=value,name=value}.
     */
    public static final Kind<Map<String, String>> STRING_MAP =
            new Kind<>("a mapping of names to values", Shape.MAPPING, Kind::parseMap);

    final String description;
    final Shape shape;
    private final Function<String, T> parse;

    private Kind(String description, Shape shape, Function<String, T> parse) {
        this.description = description;
        this.shape = shape;
        this.parse = parse;
    }

    private static <T> Kind<T> scalar(String description, Function<String, T> parse) {
        return new Kind<>(description, Shape.SCALAR, parse);
    }

    /** Converts a raw value; throws {@link IllegalArgumentException} saying what is wrong (the caller names the key). */
    T convert(String raw) {
        return parse.apply(raw);
    }

    /** A mapping's entries, already checked to be single values, as this kind's value (in the file's order). */
    @SuppressWarnings("unchecked")
    T fromEntries(Map<String, String> entries) {
        if (shape != Shape.MAPPING) throw new IllegalStateException(description + " is not a mapping");
        return (T) Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    private static final Pattern DURATION_PATTERN = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern SIZE_PATTERN = Pattern.compile("(\\d+)\\s*(b|kb|mb|gb)?");

    private static int parseInt(String raw) {
        try {
            return Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be an integer, got '" + raw + "'");
        }
    }

    static Duration parseDuration(String raw) {
        Matcher m = DURATION_PATTERN.matcher(raw.trim().toLowerCase(Locale.ROOT));
        if (!m.matches())
            throw new IllegalArgumentException("must be a duration such as 500ms, 5s, 2m or 1h, got '" + raw + "'");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    static long parseSize(String raw) {
        Matcher m = SIZE_PATTERN.matcher(raw.trim().toLowerCase(Locale.ROOT));
        if (!m.matches())
            throw new IllegalArgumentException("must be a size such as 512, 32KB or 64MB, got '" + raw + "'");
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        long bytes = switch (unit) {
            case "kb" -> n * 1024;
            case "mb" -> n * 1024 * 1024;
            case "gb" -> n * 1024 * 1024 * 1024;
            default -> n;
        };
        if (bytes < 1) throw new IllegalArgumentException("must be at least 1 byte");
        return bytes;
    }

    /** {@code name=value,name=value} (an environment override of a mapping); empty: no entries. */
    private static Map<String, String> parseMap(String raw) {
        Map<String, String> entries = new LinkedHashMap<>();
        for (String part : raw.split(",")) {
            if (part.isBlank()) continue;
            int equals = part.indexOf('=');
            if (equals <= 0)
                throw new IllegalArgumentException(
                        "must be a mapping of names to values (name=value,...), got '" + raw + "'");
            entries.put(
                    part.substring(0, equals).trim(), part.substring(equals + 1).trim());
        }
        return Collections.unmodifiableMap(entries);
    }
}
