package io.sluice.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The directory target: a file is copied next to its final name as a hidden temporary file, forced to disk, then
 * renamed atomically and the directory forced, so after a crash either the whole file is there or nothing (a
 * leftover temporary file is ignored by {@link #list} and replaced by the next attempt).
 */
final class DirectoryStore implements ArchiveStore {
    private final Path root;

    DirectoryStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    @Override
    public void put(String name, Path file) throws IOException {
        Path target = resolve(name);
        Files.createDirectories(target.getParent());
        Path temp = target.resolveSibling(".tmp-" + UUID.randomUUID() + "-" + target.getFileName());
        try {
            Files.copy(file, temp);
            force(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the archive directory " + root + " cannot rename atomically", e);
            }
            force(target.getParent());
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void force(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        Path start = resolve(prefix.isEmpty() ? "." : prefix);
        if (!Files.isDirectory(start)) return List.of();
        List<String> names = new ArrayList<>();
        try (Stream<Path> files = Files.walk(start)) {
            files.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .forEach(p -> names.add(root.relativize(p).toString().replace('\\', '/')));
        } catch (java.io.UncheckedIOException e) {
            if (!(e.getCause() instanceof NoSuchFileException)) throw e.getCause();
        }
        return names;
    }

    @Override
    public InputStream open(String name) throws IOException {
        return Files.newInputStream(resolve(name));
    }

    @Override
    public void delete(String name) throws IOException {
        Files.deleteIfExists(resolve(name));
    }

    private Path resolve(String name) {
        Path path = root.resolve(name).normalize();
        if (!path.startsWith(root)) throw new IllegalArgumentException("not an archive name: " + name);
        return path;
    }

    @Override
    public String describe() {
        return "directory " + root;
    }
}
