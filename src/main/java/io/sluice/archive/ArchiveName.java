package io.sluice.archive;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One archive file's name: {@code <topic>/p=<partition>/<yyyy-MM-ddTHH>/<first>-<end>.sluice.gz}. The hour is that
 * of the first record's timestamp (UTC) and the offsets are the partition's range the file covers, {@code [first,
 * end)}: every record of the range that Kafka returned is in the file, so files tile the partition and a reader
 * finds offsets by name alone. Offsets are zero-padded so names sort in offset order within an hour.
 */
public record ArchiveName(String topic, int partition, Instant hour, long first, long end) {
    private static final DateTimeFormatter HOUR =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH").withZone(ZoneOffset.UTC);
    private static final Pattern NAME =
            Pattern.compile("(.+)/p=(\\d+)/(\\d{4}-\\d{2}-\\d{2}T\\d{2})/(\\d{20})-(\\d{20})\\.sluice\\.gz");
    static final String SUFFIX = ".sluice.gz";

    /** The hour a record's timestamp falls in. */
    static Instant hourOf(long timestampMillis) {
        return Instant.ofEpochMilli(timestampMillis).truncatedTo(ChronoUnit.HOURS);
    }

    /** The prefix of every file of a partition. */
    static String partitionPrefix(String topic, int partition) {
        return topic + "/p=" + partition + "/";
    }

    String name() {
        return partitionPrefix(topic, partition) + HOUR.format(hour) + "/" + String.format("%020d-%020d", first, end)
                + SUFFIX;
    }

    /** The name's parts, or empty for something else in the store (a file someone else put there). */
    static Optional<ArchiveName> parse(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) return Optional.empty();
        Instant hour = Instant.from(
                HOUR.parse(m.group(3), java.time.LocalDateTime::from).atOffset(ZoneOffset.UTC));
        return Optional.of(new ArchiveName(
                m.group(1),
                Integer.parseInt(m.group(2)),
                hour,
                Long.parseLong(m.group(4)),
                Long.parseLong(m.group(5))));
    }
}
