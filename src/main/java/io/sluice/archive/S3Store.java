package io.sluice.archive;

import io.sluice.config.ArchiveSettings;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3-compatible target (AWS S3, MinIO, Ceph, S3Proxy...): one PUT of the complete object per file, so an object
 * is visible whole or not at all. Checksums only where the API requires them, since S3-compatible servers differ in
 * the newer trailing checksums. SDK failures become {@link IOException}s: the archiver retries, a reader fails.
 */
final class S3Store implements ArchiveStore {
    private final S3Client client;
    private final String bucket;
    private final String prefix;
    private final String description;

    S3Store(ArchiveSettings.S3 settings) {
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(settings.region()))
                .forcePathStyle(settings.pathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(credentials(settings));
        if (!settings.endpoint().isEmpty()) builder.endpointOverride(URI.create(settings.endpoint()));
        this.client = builder.build();
        this.bucket = settings.bucket();
        this.prefix = settings.prefix();
        this.description =
                "s3://" + bucket + "/" + prefix + (settings.endpoint().isEmpty() ? "" : " at " + settings.endpoint());
    }

    private static AwsCredentialsProvider credentials(ArchiveSettings.S3 settings) {
        if (settings.accessKeyId().isEmpty())
            return DefaultCredentialsProvider.builder().build();
        return StaticCredentialsProvider.create(
                AwsBasicCredentials.create(settings.accessKeyId(), settings.secretAccessKey()));
    }

    @Override
    public void put(String name, Path file) throws IOException {
        try {
            client.putObject(b -> b.bucket(bucket).key(prefix + name), RequestBody.fromFile(file));
        } catch (SdkException e) {
            throw new IOException("could not write " + name + " to " + description + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<String> list(String under) throws IOException {
        try {
            List<String> names = new ArrayList<>();
            for (S3Object object : client.listObjectsV2Paginator(
                            b -> b.bucket(bucket).prefix(prefix + under))
                    .contents()) names.add(object.key().substring(prefix.length()));
            return names;
        } catch (SdkException e) {
            throw new IOException("could not list " + description + ": " + e.getMessage(), e);
        }
    }

    @Override
    public InputStream open(String name) throws IOException {
        try {
            return client.getObject(b -> b.bucket(bucket).key(prefix + name));
        } catch (SdkException e) {
            throw new IOException("could not read " + name + " from " + description + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String name) throws IOException {
        try {
            client.deleteObject(b -> b.bucket(bucket).key(prefix + name));
        } catch (SdkException e) {
            throw new IOException("could not delete " + name + " from " + description + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        client.close();
    }
}
