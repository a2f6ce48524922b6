package io.sluice.support;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small filesystem of its own (tmpfs with a size limit, mounted by the test: needs root, as on CI) that a test
 * can fill up and free again, to see what a full disk does to a broker or a database living on it.
 */
public final class SmallDisk implements AutoCloseable {
    private final Path mountPoint;
    private final Path filler;

    private SmallDisk(Path mountPoint) {
        this.mountPoint = mountPoint;
        this.filler = mountPoint.resolve("filler.bin");
    }

    /** Mounts a {@code sizeMb} tmpfs at {@code mountPoint}; null (with the reason in {@code why[0]}) when not allowed here. */
    public static SmallDisk mount(Path mountPoint, int sizeMb, String[] why) {
        try {
            Files.createDirectories(mountPoint);
            String output = run(List.of(
                    "mount", "-t", "tmpfs", "-o", "size=" + sizeMb + "m,mode=0755", "tmpfs", mountPoint.toString()));
            if (output != null) {
                why[0] = "mount -t tmpfs failed: " + output.strip();
                return null;
            }
            return new SmallDisk(mountPoint);
        } catch (IOException e) {
            why[0] = "mount not possible: " + e.getMessage();
            return null;
        }
    }

    public Path path() {
        return mountPoint;
    }

    /** Writes a filler file until the filesystem refuses (ENOSPC); returns the bytes written. */
    public long fill() {
        long written = 0;
        byte[] chunk = new byte[256 * 1024];
        try (OutputStream out = Files.newOutputStream(filler, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            while (true) {
                out.write(chunk);
                written += chunk.length;
            }
        } catch (IOException full) {
            return written; // No space left on device: that is the point
        }
    }

    /** Deletes the filler file: space is back. */
    public void free() {
        try {
            Files.deleteIfExists(filler);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public long usableBytes() {
        try {
            return Files.getFileStore(mountPoint).getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        try {
            run(List.of("umount", "-l", mountPoint.toString()));
        } catch (IOException ignored) {
            // best effort; a lazy unmount finishes when the last user lets go
        }
    }

    /** Runs a command; null when it succeeded, else its output. */
    private static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        String output = new String(p.getInputStream().readAllBytes());
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + output;
    }
}
