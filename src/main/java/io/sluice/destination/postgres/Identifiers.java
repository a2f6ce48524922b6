package io.sluice.destination.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Turns event names, property paths and source ids into PostgreSQL identifiers (docs/warehouse.md, "Naming").
 *
 * <p>Every name is a pure function of its kind (schema, event table, or a column of one payload) and the original:
 * nothing seen before changes it. Conventional changes keep the name readable and are deliberate merges, as in
 * Segment: camelCase and case differences, and spaces, become snake_case ({@code Order Completed},
 * {@code orderCompleted} and {@code order_completed} are one table). Every other change is lossy — punctuation,
 * non-ASCII, an empty name, truncation to PostgreSQL's 63 bytes, a literal name that looks like one we prefix, one
 * that ends like a hashed name, or one that could meet a relation or column PostgreSQL or Sluice creates — and
 * gives the cleaned name cut to 54 characters plus {@code _} and 8 hex digits of the SHA-256 of the original. A
 * name without a lossy change never ends in {@code _} + 8 hex digits, so a lossless name never meets a hashed one.
 */
public final class Identifiers {
    static final int MAX_BYTES = 63;
    private static final int HASH_CHARS = 8;

    /** PostgreSQL 17's reserved key words (pg_get_keywords() catcode R and T): unusable as bare names. */
    static final Set<String> SQL_RESERVED = Set.of(("all analyse analyze and any array as asc asymmetric authorization"
                    + " binary both case cast check collate collation column concurrently constraint create cross current_catalog"
                    + " current_date current_role current_schema current_time current_timestamp current_user default deferrable"
                    + " desc distinct do else end except false fetch for foreign freeze from full grant group having ilike in"
                    + " initially inner intersect into is isnull join lateral leading left like limit localtime localtimestamp"
                    + " natural not notnull null offset on only or order outer overlaps placing primary references returning"
                    + " right select session_user similar some symmetric system_user table tablesample then to trailing true"
                    + " union unique user using variadic verbose when where window with")
            .split(" "));

    /** The tables every source schema has; a track event with one of these names gets a prefixed table. */
    static final Set<String> STANDARD_TABLES =
            Set.of("tracks", "identifies", "users", "pages", "screens", "groups", "aliases");

    /** Columns every event table has. */
    static final Set<String> COMMON_COLUMNS = Set.of(
            "id", "received_at", "sent_at", "timestamp", "original_timestamp", "uuid_ts", "user_id", "anonymous_id");
    /** Columns Sluice fills in some table: the common ones plus those of particular event types. */
    static final Set<String> FIXED_COLUMNS =
            union(COMMON_COLUMNS, Set.of("event", "event_text", "name", "category", "group_id", "previous_id"));

    /** PostgreSQL's system columns: every table has them, so no payload column may be named so. */
    static final Set<String> SYSTEM_COLUMNS = Set.of("xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid");

    /** The overflow column, the raw event and long ids: Sluice's own columns start with {@code _sluice}. */
    static final String OWN_PREFIX = "_sluice";

    /** What a hashed name ends with: {@code _} and 8 lowercase hex digits. */
    private static final Pattern HASHED = Pattern.compile(".*_[0-9a-f]{8}");
    /**
     * Names of relations PostgreSQL creates next to a table (its primary key index {@code <table>_pkey}, truncated
     * and numbered when needed; {@code _key}, {@code _idx}, {@code _seq} for indexes and sequences): an event table
     * with such a name could meet one of them, so such names are hashed.
     */
    private static final Pattern RELATION_LIKE = Pattern.compile(".*_(pkey|key|idx|seq)[0-9]*");

    private static final Predicate<String> SCHEMA_RESERVED = n ->
            SQL_RESERVED.contains(n) || n.equals("public") || n.equals("information_schema") || n.startsWith("pg_");
    private static final Predicate<String> TABLE_RESERVED =
            n -> SQL_RESERVED.contains(n) || STANDARD_TABLES.contains(n);
    /** Event table names that are hashed rather than prefixed: they could meet an index, a sequence or our tables. */
    private static final Predicate<String> TABLE_HASHED =
            n -> RELATION_LIKE.matcher(n).matches() || n.startsWith(OWN_PREFIX);
    /** Column names that are hashed rather than prefixed: Sluice's own columns. */
    private static final Predicate<String> COLUMN_HASHED = n -> n.startsWith(OWN_PREFIX);
    /** Properties share tables with event, event_text (tracks) and name, category (pages, screens). */
    private static final Predicate<String> PROPERTY_RESERVED =
            reservedPayload(union(COMMON_COLUMNS, Set.of("event", "event_text", "name", "category")));
    /** Traits share tables with group_id (groups); identifies and users have only the common columns. */
    private static final Predicate<String> TRAIT_RESERVED = reservedPayload(union(COMMON_COLUMNS, Set.of("group_id")));
    /** Other top-level fields can land in any event table. */
    private static final Predicate<String> FIELD_RESERVED = reservedPayload(FIXED_COLUMNS);

    private static final Predicate<String> PREFIXED = SQL_RESERVED::contains;

    /** Which unprefixed payload a column comes from; each avoids the fixed columns of the tables it goes to. */
    public enum Payload {
        PROPERTIES(PROPERTY_RESERVED, "p"),
        TRAITS(TRAIT_RESERVED, "t"),
        FIELDS(FIELD_RESERVED, "f");

        private final Predicate<String> reserved;
        /** A short distinct tag, for cache keys. */
        final String tag;

        Payload(Predicate<String> reserved, String tag) {
            this.reserved = reserved;
            this.tag = tag;
        }
    }

    private Identifiers() {}

    /** The schema of a source. */
    public static String schema(String sourceId) {
        return name("", List.of(sourceId), SCHEMA_RESERVED, n -> n.startsWith(OWN_PREFIX));
    }

    /** The table of one track event name ({@code Order Completed} → {@code order_completed}). */
    public static String eventTable(String eventName) {
        return name("", List.of(eventName), TABLE_RESERVED, TABLE_HASHED);
    }

    /** An unprefixed payload column: a property, trait or other top-level field, nested keys joined by {@code _}. */
    public static String payloadColumn(Payload payload, List<String> path) {
        return name("", path, payload.reserved, COLUMN_HASHED);
    }

    /** A column under a fixed prefix, e.g. {@code context} → {@code context_library_name}. */
    public static String prefixedColumn(String prefix, List<String> path) {
        return name(prefix, path, PREFIXED, COLUMN_HASHED);
    }

    /** Another name for a column that a different value of the same row already took: stable per path. */
    static String disambiguated(String column, String prefix, List<String> path) {
        return withHash(column, original(prefix, path) + "\u001e#");
    }

    /** What a name is for; with the original, the whole input of {@link #named}. */
    enum NameKind {
        EVENT_TABLE,
        CONTEXT,
        PROPERTIES,
        TRAITS,
        FIELDS
    }

    /**
     * A memo key: kind and path, compared element by element (no iterators: a key is looked up for every value
     * of every event). Lookups wrap the caller's path as it is; only a stored key copies it.
     */
    private static final class MemoKey {
        final NameKind kind;
        final List<String> path;
        final int hash;

        MemoKey(NameKind kind, List<String> path) {
            this.kind = kind;
            this.path = path;
            int h = kind.hashCode();
            for (int i = 0, n = path.size(); i < n; i++)
                h = 31 * h + path.get(i).hashCode();
            this.hash = h;
        }

        @Override
        public boolean equals(Object o) {
            if (this == o) return true;
            if (!(o instanceof MemoKey k) || k.hash != hash || k.kind != kind) return false;
            int n = path.size();
            if (k.path.size() != n) return false;
            for (int i = 0; i < n; i++) if (!path.get(i).equals(k.path.get(i))) return false;
            return true;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** A name and the path it was made of, as an immutable list shared by every lookup of that path. */
    record Named(String name, List<String> path) {}

    private static final int MEMO_LIMIT = 100_000;
    private static final Map<MemoKey, Named> MEMO = new ConcurrentHashMap<>();

    /**
     * The name of an event table ({@code path} is the event name) or a column: a memo of the pure functions above,
     * keyed by kind and the whole path, so no two inputs can share an entry.
     */
    static String named(NameKind kind, List<String> path) {
        return memo(kind, path).name();
    }

    /**
     * As {@link #named}, with the path as an immutable copy that every lookup of it shares: origins built on it
     * compare by identity first ({@link ColumnOrigin}), and a lookup copies nothing.
     */
    static Named memo(NameKind kind, List<String> path) {
        Named known = MEMO.get(new MemoKey(kind, path));
        if (known != null) return known;
        List<String> copy = List.copyOf(path);
        String name = switch (kind) {
            case EVENT_TABLE -> eventTable(copy.getFirst());
            case CONTEXT -> prefixedColumn("context", copy);
            case PROPERTIES -> payloadColumn(Payload.PROPERTIES, copy);
            case TRAITS -> payloadColumn(Payload.TRAITS, copy);
            case FIELDS -> payloadColumn(Payload.FIELDS, copy);
        };
        if (MEMO.size() > MEMO_LIMIT) MEMO.clear();
        Named named = new Named(name, copy);
        MEMO.put(new MemoKey(kind, copy), named);
        return named;
    }

    /** Whether a name is of the hashed form (a lossless name never is). */
    static boolean isHashed(String name) {
        return HASHED.matcher(name).matches();
    }

    /** A quoted identifier for SQL text. Every identifier Sluice writes into SQL goes through here. */
    public static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    private static String name(String prefix, List<String> path, Predicate<String> reserved, Predicate<String> hashed) {
        StringBuilder out = new StringBuilder(prefix);
        boolean lossy = false;
        for (String segment : path) {
            if (!out.isEmpty()) out.append('_');
            lossy |= clean(segment, out);
        }
        String name = out.toString();
        if (name.isEmpty()) {
            return withHash("", original(prefix, path));
        }
        if (isDigit(name.charAt(0)) || reserved.test(name)) {
            name = "_" + name;
        } else if (name.length() > 1
                && name.charAt(0) == '_'
                && (isDigit(name.charAt(1)) || reserved.test(name.substring(1)))) {
            lossy = true; // a literal "_select" or "_1st" must not meet "select" or "1st"
        }
        // a literal "a_b_7f34949e" must not meet the hashed form of "a-b"; "tracks_pkey" must not meet an index
        lossy |= hashed.test(name) || HASHED.matcher(name).matches();
        return lossy || name.length() > MAX_BYTES ? withHash(name, original(prefix, path)) : name;
    }

    /**
     * Appends the snake_case form of one name segment; returns whether anything other than case, camelCase or
     * spaces had to change.
     */
    static boolean clean(String segment, StringBuilder out) {
        String text = segment;
        boolean lossy = false;
        if (!isAscii(text)) {
            text = Normalizer.normalize(text, Normalizer.Form.NFD).replaceAll("\\p{M}+", "");
            lossy = true;
        }
        text = stripSpaces(text);
        int start = out.length();
        boolean lastReplaced = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char previous = i > 0 ? text.charAt(i - 1) : ' ';
                char next = i + 1 < text.length() ? text.charAt(i + 1) : ' ';
                boolean boundary = isLower(previous) || isDigit(previous) || (isUpper(previous) && isLower(next));
                if (boundary && out.length() > start && out.charAt(out.length() - 1) != '_') out.append('_');
                out.append((char) (c + ('a' - 'A')));
                lastReplaced = false;
            } else if (isLower(c) || isDigit(c) || c == '_') {
                out.append(c);
                lastReplaced = false;
            } else if (c == ' ') {
                if (text.charAt(i - 1) != ' ') out.append('_'); // a run of spaces is one '_'
                lastReplaced = false;
            } else {
                lossy = true;
                if (!lastReplaced) out.append('_');
                lastReplaced = true;
            }
        }
        if (out.length() == start) lossy = true; // an empty segment
        return lossy;
    }

    static String withHash(String base, String original) {
        String hash = sha256Hex(original).substring(0, HASH_CHARS);
        int keep = Math.min(base.length(), MAX_BYTES - HASH_CHARS - 1);
        while (keep > 1 && base.charAt(keep - 1) == '_') keep--; // "price ($)" → price_1a2b3c4d, not price___1a2b3c4d
        return base.substring(0, keep) + "_" + hash;
    }

    private static String stripSpaces(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && text.charAt(start) == ' ') start++;
        while (end > start && text.charAt(end - 1) == ' ') end--;
        return text.substring(start, end);
    }

    /**
     * What the hash is taken of: an injective encoding of prefix and path. Segments are joined with U+001F after
     * the prefix and U+001E (the encoding names always had); a segment that itself holds U+001D, U+001E or U+001F
     * would make that ambiguous, so such a path is encoded as U+001D + the JSON array of prefix and segments.
     */
    static String original(String prefix, List<String> path) {
        for (String segment : path) {
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (c == '\u001d' || c == '\u001e' || c == '\u001f') return "\u001d" + jsonArray(prefix, path);
            }
        }
        return prefix + "\u001e" + String.join("\u001f", path);
    }

    private static String jsonArray(String prefix, List<String> path) {
        StringBuilder json = new StringBuilder("[");
        appendJson(json, prefix);
        for (String segment : path) appendJson(json.append(','), segment);
        return json.append(']').toString();
    }

    /** A JSON array of strings that PostgreSQL text stores exactly: control characters and lone surrogates escaped. */
    static String jsonArray(List<String> items) {
        StringBuilder json = new StringBuilder("[");
        for (String item : items) appendJson(json.length() > 1 ? json.append(',') : json, item);
        return json.append(']').toString();
    }

    private static void appendJson(StringBuilder json, String text) {
        json.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                json.append(String.format("\\u%04x", (int) c));
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                json.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                json.append(String.format("\\u%04x", (int) c)); // unpaired: UTF-8 cannot carry it
            } else {
                json.append(c);
            }
        }
        json.append('"');
    }

    private static String sha256Hex(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Predicate<String> reservedPayload(Set<String> fixed) {
        return n ->
                SQL_RESERVED.contains(n) || fixed.contains(n) || SYSTEM_COLUMNS.contains(n) || n.startsWith("context_");
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }

    private static boolean isAscii(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x80) return false;
        }
        return true;
    }

    private static boolean isLower(char c) {
        return c >= 'a' && c <= 'z';
    }

    private static boolean isUpper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
