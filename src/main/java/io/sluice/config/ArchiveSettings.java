package io.sluice.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The optional archive of the events topic (docs/replay.md): where the archiver writes, how it cuts files, and who
 * reads it back (backfills of a window older than Kafka's retention). Exactly one target when enabled: a
 * {@code directory}, or an S3-compatible bucket ({@link S3}).
 *
 * @param directory null unless the directory target is chosen
 * @param s3 null unless the S3 target is chosen
 */
public record ArchiveSettings(
        boolean enabled, Path directory, S3 s3, String groupId, Duration fileMaxAge, long fileMaxBytes) {

    /**
     * An S3-compatible bucket.
     *
     * @param endpoint empty: AWS's own endpoint for the region
     * @param accessKeyId empty: the AWS SDK's default credential chain (environment, profile, instance role)
     */
    public record S3(
            String bucket,
            String prefix,
            String endpoint,
            String region,
            String accessKeyId,
            String secretAccessKey,
            boolean pathStyle) {
        @Override
        public String toString() {
            return "S3[bucket=" + bucket + ", prefix=" + prefix + ", endpoint=" + endpoint + ", region=" + region + "]";
        }
    }

    /** The archive switched off: what the defaults give. */
    public static ArchiveSettings disabled() {
        return new ArchiveSettings(false, null, null, "sluice-archiver", Duration.ofMinutes(5), 64L << 20);
    }
}
