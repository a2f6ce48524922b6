package io.sluice.archive;

import io.sluice.config.ArchiveSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * Where archive files live: a directory or an S3-compatible bucket. A name is a relative path with '/' separators
 * ({@link ArchiveName}). {@link #put} makes a whole file visible at once or not at all (atomic rename; one S3 PUT of
 * the complete object), so a reader or a restarted archiver never sees half a file.
 */
public interface ArchiveStore extends AutoCloseable {
    /** Publishes the complete local file under this name (replacing one of the same name). */
    void put(String name, Path file) throws IOException;

    /** The names under this prefix ("" for all), in no particular order. */
    List<String> list(String prefix) throws IOException;

    InputStream open(String name) throws IOException;

    void delete(String name) throws IOException;

    /** A description for logs (no secrets). */
    String describe();

    @Override
    default void close() {}

    /** The store the settings name; the caller checked that the archive is enabled. */
    static ArchiveStore open(ArchiveSettings settings) {
        if (settings.directory() != null) return new DirectoryStore(settings.directory());
        return new S3Store(settings.s3());
    }
}
