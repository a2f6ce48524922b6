package io.sluice.config;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The value types a configuration key can have; each converts and validates a raw string. */
public enum Kind {
    STRING("a non-empty string") {
        @Override
        Object convert(String raw) {
            if (raw.isBlank()) throw new IllegalArgumentException("must not be empty");
            return raw;
        }
    },
    OPTIONAL_STRING("a string") {
        @Override
        Object convert(String raw) {
            return raw;
        }
    },
    IDENTIFIER("an identifier of lower-case letters, digits, '_' or '-' (starting with a letter)") {
        @Override
        Object convert(String raw) {
            if (!raw.matches("[a-z][a-z0-9_-]{0,62}")) throw new IllegalArgumentException("must be " + description);
            return raw;
        }
    },
    PORT("a TCP port 0-65535 (0 picks a free port)") {
        @Override
        Object convert(String raw) {
            int port = parseInt(raw);
            if (port < 0 || port > 65535) throw new IllegalArgumentException("must be " + description);
            return port;
        }
    },
    POSITIVE_INT("an integer >= 1") {
        @Override
        Object convert(String raw) {
            int value = parseInt(raw);
            if (value < 1) throw new IllegalArgumentException("must be " + description);
            return value;
        }
    },
    /** An integer >= 1, or "auto" (converted to 0): how many replicas a topic Sluice creates gets. */
    REPLICAS("an integer >= 1 or 'auto'") {
        @Override
        Object convert(String raw) {
            if (raw.trim().equalsIgnoreCase("auto")) return 0;
            int value = parseInt(raw);
            if (value < 1) throw new IllegalArgumentException("must be " + description);
            return value;
        }
    },
    DURATION("a duration such as 500ms, 5s, 2m or 1h") {
        @Override
        Object convert(String raw) {
            return parseDuration(raw);
        }
    },
    SIZE("a size such as 512, 32KB or 64MB") {
        @Override
        Object convert(String raw) {
            return parseSize(raw);
        }
    },
    /** "embedded" or a comma-separated host:port list. */
    KAFKA_SERVERS("'embedded' or a comma-separated list of host:port") {
        @Override
        Object convert(String raw) {
            String value = raw.trim();
            if (value.equals("embedded")) return value;
            for (String hostPort : value.split(",")) {
                if (!hostPort.trim().matches("[^:\\s]+:\\d{1,5}")) {
                    throw new IllegalArgumentException("must be " + description + ", got '" + raw + "'");
                }
            }
            return value;
        }
    },
    /** "embedded" or a PostgreSQL JDBC URL (single host, multi-host, or cluster endpoint). */
    JDBC_URL("'embedded' or a jdbc:postgresql:// URL") {
        @Override
        Object convert(String raw) {
            String value = raw.trim();
            if (value.equals("embedded") || value.startsWith("jdbc:postgresql://")) return value;
            throw new IllegalArgumentException("must be " + description + ", got '" + raw + "'");
        }
    },
    BOOLEAN("true or false") {
        @Override
        Object convert(String raw) {
            return switch (raw.trim().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on" -> true;
                case "false", "no", "off" -> false;
                default -> throw new IllegalArgumentException("must be true or false, got '" + raw + "'");
            };
        }
    },
    HTTP_URL("an http:// or https:// URL") {
        @Override
        Object convert(String raw) {
            try {
                URI uri = URI.create(raw.trim());
                if ((!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) || uri.getHost() == null)
                    throw new IllegalArgumentException();
                return uri.toString();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("must be an http:// or https:// URL, got '" + raw + "'");
            }
        }
    },
    WEBHOOK_MODE("event or batch") {
        @Override
        Object convert(String raw) {
            String mode = raw.trim();
            if (!mode.equals("event") && !mode.equals("batch"))
                throw new IllegalArgumentException("must be 'event' or 'batch', got '" + raw + "'");
            return mode;
        }
    },
    /** "" (no limit), "200/s" (requests per second) or "5000 events/s". */
    RATE("a rate such as 200/s or 5000 events/s (empty: unlimited)") {
        @Override
        Object convert(String raw) {
            String text = raw.trim();
            if (text.isEmpty()) return "";
            if (!text.matches("\\d+(\\.\\d+)?\\s*(events)?\\s*/\\s*s"))
                throw new IllegalArgumentException("must be a rate such as 200/s or 5000 events/s, got '" + raw + "'");
            return text;
        }
    },
    STRING_LIST("a list of strings") {
        @Override
        Object convert(String raw) {
            List<String> items = new ArrayList<>();
            for (String part : raw.split(",")) {
                if (!part.isBlank()) items.add(part.trim());
            }
            return List.copyOf(items);
        }
    },
    EVENT_TYPE_LIST("a list of event types (track, identify, page, screen, group, alias)") {
        @Override
        Object convert(String raw) {
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
        }
    },
    CIDR_LIST("a list of CIDRs such as 10.0.0.0/8") {
        @Override
        Object convert(String raw) {
            List<Cidr> cidrs = new ArrayList<>();
            for (String part : raw.split(",")) {
                if (!part.isBlank()) cidrs.add(Cidr.parse(part.trim()));
            }
            return List.copyOf(cidrs);
        }
    };

    final String description;

    Kind(String description) {
        this.description = description;
    }

    abstract Object convert(String raw);

    /** Whether a YAML list is accepted for this key (joined with commas before conversion). */
    boolean isList() {
        return this == STRING_LIST || this == EVENT_TYPE_LIST || this == CIDR_LIST;
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
}
