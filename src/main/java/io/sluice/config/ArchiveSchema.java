package io.sluice.config;

import static io.sluice.config.Key.key;
import static io.sluice.config.Key.secret;

import io.sluice.config.ConfigSchema.Section;
import java.nio.file.Path;
import java.time.Duration;

/** The {@code archive:} keys (docs/replay.md, "History beyond Kafka's retention") and the record they build. */
final class ArchiveSchema {
    private ArchiveSchema() {}

    static final Key<Boolean> ENABLED = key(
            "enabled",
            Kind.BOOLEAN,
            "false",
            "Run the archiver in the planner role: it copies the events topic, byte for byte, into compressed hourly files per partition, and backfills read it for the part of a window Kafka no longer holds. Needs exactly one target: directory or s3.bucket.");
    static final Key<String> DIRECTORY = key(
            "directory",
            Kind.OPTIONAL_STRING,
            "",
            "Directory target (relative: to the working directory, like dataDir): a local or mounted file system every planner and worker process can read; files appear by atomic rename only when complete.");
    static final Key<String> GROUP_ID =
            key("groupId", Kind.STRING, "sluice-archiver", "Kafka consumer group of the archivers.");
    static final Key<Duration> FILE_MAX_AGE = key(
            "fileMaxAge",
            Kind.DURATION,
            "5m",
            "An open file is written out (and the archiver's offsets committed) at least this often; also at every hour of the records' timestamps. Events newer than this may be in Kafka only.");
    static final Key<Long> FILE_MAX_BYTES = key(
            "fileMaxBytes", Kind.SIZE, "64MB", "An open file is written out once its records hold this many bytes.");

    static final class S3 {
        static final Key<String> BUCKET =
                key("bucket", Kind.OPTIONAL_STRING, "", "S3 target: the bucket (it must exist); empty: no S3 target.");
        static final Key<String> PREFIX = key(
                "prefix",
                Kind.OPTIONAL_STRING,
                "sluice-archive/",
                "Key prefix of the archive's objects in the bucket.");
        static final Key<String> ENDPOINT = key(
                "endpoint",
                Kind.OPTIONAL_HTTP_URL,
                "",
                "URL of an S3-compatible server (MinIO, Ceph, S3Proxy, R2...); empty: AWS S3 of the region.");
        static final Key<String> REGION = key("region", Kind.STRING, "us-east-1", "Region of the bucket.");
        static final Key<String> ACCESS_KEY_ID = secret(
                "accessKeyId",
                Kind.OPTIONAL_STRING,
                "",
                "Access key id, through ${ENV_VAR}; empty: the AWS SDK's default credentials (environment, profile, instance role).");
        static final Key<String> SECRET_ACCESS_KEY = secret(
                "secretAccessKey",
                Kind.OPTIONAL_STRING,
                "",
                "Secret access key, through ${ENV_VAR}; set with accessKeyId.");
        static final Key<Boolean> PATH_STYLE = key(
                "pathStyle",
                Kind.BOOLEAN,
                "false",
                "Address the bucket in the path (http://host/bucket/key) instead of the host name; most S3-compatible servers need true.");
        static final Section SECTION =
                Section.of("s3", BUCKET, PREFIX, ENDPOINT, REGION, ACCESS_KEY_ID, SECRET_ACCESS_KEY, PATH_STYLE);
    }

    static final Section SECTION =
            Section.of("archive", ENABLED, DIRECTORY, S3.SECTION, GROUP_ID, FILE_MAX_AGE, FILE_MAX_BYTES);

    static ArchiveSettings read(Values v) {
        Values s = v.in(S3.SECTION);
        String directory = v.get(DIRECTORY);
        String bucket = s.get(S3.BUCKET);
        boolean enabled = v.get(ENABLED);
        if (enabled && directory.isEmpty() == bucket.isEmpty()) {
            throw new ConfigException(
                    "archive.directory",
                    directory.isEmpty()
                            ? "the archive is enabled: set archive.directory or archive.s3.bucket"
                            : "set archive.directory or archive.s3.bucket, not both");
        }
        if (s.get(S3.ACCESS_KEY_ID).isEmpty() != s.get(S3.SECRET_ACCESS_KEY).isEmpty()) {
            throw new ConfigException(
                    "archive.s3.accessKeyId", "set together with archive.s3.secretAccessKey (or neither)");
        }
        if (v.get(FILE_MAX_AGE).isZero()) throw new ConfigException("archive.fileMaxAge", "must be above 0");
        String prefix = s.get(S3.PREFIX);
        if (!prefix.isEmpty() && !prefix.endsWith("/")) prefix = prefix + "/";
        return new ArchiveSettings(
                enabled,
                directory.isEmpty() ? null : Path.of(directory),
                bucket.isEmpty()
                        ? null
                        : new ArchiveSettings.S3(
                                bucket,
                                prefix,
                                s.get(S3.ENDPOINT),
                                s.get(S3.REGION),
                                s.get(S3.ACCESS_KEY_ID),
                                s.get(S3.SECRET_ACCESS_KEY),
                                s.get(S3.PATH_STYLE)),
                v.get(GROUP_ID),
                v.get(FILE_MAX_AGE),
                v.get(FILE_MAX_BYTES));
    }
}
