package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code archive:} keys: off by default, exactly one target, credentials in pairs, secrets redacted. */
class ArchiveConfigTest {
    private static final String MINIMAL = """
            sources:
              - id: web
                writeKey: wk_1
            """;

    @Test
    void theArchiveIsOffByDefault() {
        ArchiveSettings archive = load(MINIMAL).archive();
        assertThat(archive.enabled()).isFalse();
        assertThat(archive.directory()).isNull();
        assertThat(archive.s3()).isNull();
        assertThat(archive.groupId()).isEqualTo("sluice-archiver");
        assertThat(archive.fileMaxAge()).isEqualTo(Duration.ofMinutes(5));
        assertThat(archive.fileMaxBytes()).isEqualTo(64L << 20);
    }

    @Test
    void aDirectoryOrABucketWithCredentialsFromTheEnvironment() {
        assertThat(load(MINIMAL + "archive: {enabled: true, directory: /var/lib/archive}\n")
                        .archive()
                        .directory())
                .isEqualTo(Path.of("/var/lib/archive"));
        SluiceConfig s3 =
                new ConfigLoader(Map.of("ARCHIVE_KEY", "AKIA1", "ARCHIVE_SECRET", "s3cr3t")).loadYaml(MINIMAL + """
                        archive:
                          enabled: true
                          s3: {bucket: events, prefix: sluice, endpoint: "http://127.0.0.1:9000", pathStyle: true,
                               accessKeyId: "${ARCHIVE_KEY}", secretAccessKey: "${ARCHIVE_SECRET}"}
                        """);
        ArchiveSettings.S3 bucket = s3.archive().s3();
        assertThat(bucket.bucket()).isEqualTo("events");
        assertThat(bucket.prefix()).as("a prefix is a folder").isEqualTo("sluice/");
        assertThat(bucket.endpoint()).isEqualTo("http://127.0.0.1:9000");
        assertThat(bucket.accessKeyId()).isEqualTo("AKIA1");
        assertThat(bucket.secretAccessKey()).isEqualTo("s3cr3t");
        assertThat(bucket.pathStyle()).isTrue();
        assertThat(s3.effective()).doesNotContain("AKIA1").doesNotContain("s3cr3t");
        assertThat(bucket.toString()).doesNotContain("s3cr3t");
    }

    @Test
    void anEnabledArchiveNeedsExactlyOneTarget() {
        assertThatThrownBy(() -> load(MINIMAL + "archive: {enabled: true}\n"))
                .hasMessage("Invalid configuration: archive.directory: the archive is enabled: set archive.directory"
                        + " or archive.s3.bucket");
        assertThatThrownBy(() -> load(MINIMAL + "archive: {enabled: true, directory: a, s3: {bucket: b}}\n"))
                .hasMessage("Invalid configuration: archive.directory: set archive.directory or archive.s3.bucket,"
                        + " not both");
    }

    @Test
    void badValuesNameTheirKey() {
        assertThatThrownBy(() -> load(MINIMAL + "archive: {s3: {accessKeyId: x}}\n"))
                .hasMessageStartingWith("Invalid configuration: archive.s3.accessKeyId:");
        assertThatThrownBy(() -> load(MINIMAL + "archive: {fileMaxAge: 0s}\n"))
                .hasMessageStartingWith("Invalid configuration: archive.fileMaxAge:");
        assertThatThrownBy(() -> load(MINIMAL + "archive: {s3: {endpoint: ftp://x}}\n"))
                .hasMessageStartingWith("Invalid configuration: archive.s3.endpoint:");
        assertThatThrownBy(() -> load(MINIMAL + "archive: {bucket: x}\n"))
                .hasMessageStartingWith("Invalid configuration: archive.bucket: unknown key");
    }

    private static SluiceConfig load(String yaml) {
        return new ConfigLoader(Map.of()).loadYaml(yaml);
    }
}
