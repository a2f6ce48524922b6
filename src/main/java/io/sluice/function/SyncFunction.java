package io.sluice.function;

import io.sluice.config.SluiceConfig.SyncSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sync's function and the version that currently runs, with what the reload check last saw of its file. Only the
 * reload thread swaps {@link #pool}; deliveries read it.
 */
final class SyncFunction {
    private static final Logger log = LoggerFactory.getLogger(SyncFunction.class);
    private static final FileStamp MISSING = new FileStamp(FileTime.fromMillis(0), -1);

    final SyncSettings sync;
    final String key;
    final String contextJson;
    final FunctionMetrics metrics;
    /** The sync's fetch client, or null when its function may not fetch. */
    final FetchClient fetch;

    final FetchMetrics fetchMetrics;
    final FunctionHealth health;
    volatile ContextPool pool;
    private FileStamp seen;
    private FileStamp rejected;
    private FileStamp pending;

    private record FileStamp(FileTime modified, long size) {
        static FileStamp of(Path file) throws IOException {
            return new FileStamp(Files.getLastModifiedTime(file), Files.size(file));
        }
    }

    SyncFunction(
            SyncSettings sync,
            String key,
            String contextJson,
            FunctionMetrics metrics,
            FetchMetrics fetchMetrics,
            FetchClient fetch,
            FunctionHealth health) {
        this.sync = sync;
        this.key = key;
        this.contextJson = contextJson;
        this.metrics = metrics;
        this.fetchMetrics = fetchMetrics;
        this.fetch = fetch;
        this.health = health;
    }

    /**
     * How many of a batch's events may wait on calls at once: enough to keep the sync's {@code fetch.concurrency}
     * busy from one batch, bounded so that a batch's memory stays small.
     */
    int window() {
        return fetch == null ? 64 : Math.min(1024, Math.max(64, sync.fetch().concurrency() * 4));
    }

    /** Remembers the file of the version that is about to run. */
    void watch(FunctionCode code) throws IOException {
        if (code.file() != null) seen = FileStamp.of(code.file());
    }

    /** The file's new code when it changed since the running or the last rejected version; else null. */
    FunctionCode changedCode() {
        Path file = pool.code().file();
        if (file == null) return null;
        try {
            FileStamp stamp = FileStamp.of(file);
            if (stamp.equals(seen) || stamp.equals(rejected)) return null;
            String text = Files.readString(file);
            if (text.equals(pool.code().text())) {
                seen = stamp;
                return null;
            }
            pending = stamp;
            return FunctionCode.of(file.getFileName().toString(), text, file);
        } catch (IOException e) {
            if (!MISSING.equals(rejected)) {
                rejected = MISSING;
                log.error(
                        "Function file {} ({}) cannot be read; the previous version keeps running: {}",
                        file,
                        key,
                        e.toString());
            }
            return null;
        }
    }

    /** Runs the changed code from now on; the old contexts retire once their calls finish. */
    void swap(ContextPool fresh) {
        ContextPool old = pool;
        pool = fresh;
        seen = pending;
        rejected = null;
        old.retire();
        metrics.reloads().increment();
    }

    /** The changed code does not compile: keep the old version and do not try this file version again. */
    void rejectChange() {
        rejected = pending;
        metrics.rejectedReloads().increment();
    }
}
