package io.sluice.support;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a PostgreSQL server says it executed, read from its log ({@code log_statement = 'all'}, prefix
 * {@code '%m [%p] db=%d app=%a: '}, as {@link PostgresCluster} configures it). A backend logs a statement before
 * running it, so every statement logged after a {@link #mark()} started after it. Statements are classified as
 * writes by what they do anywhere in their text (a SELECT whose WITH clause updates counts as a write).
 */
public final class StatementLog {
    private static final Pattern ENTRY = Pattern.compile(
            "^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\S+) \\[(\\d+)\\] db=(\\S*) app=(.*?): (LOG|ERROR|FATAL|DETAIL|STATEMENT|WARNING|HINT|CONTEXT|PANIC):  (.*)$");
    private static final Pattern EXECUTED = Pattern.compile("^(?:statement|execute [^:]*): (.*)$", Pattern.DOTALL);
    private static final Pattern WRITE = Pattern.compile(
            "\\b(INSERT\\s+INTO|UPDATE\\s+\\w+\\s+(\\w+\\s+)?SET|DELETE\\s+FROM|MERGE\\s+INTO|TRUNCATE|COPY\\s+\\w+\\s+FROM|CREATE|ALTER|DROP|"
                    + "SELECT\\s+[^;]*\\bFOR\\s+(NO\\s+KEY\\s+)?UPDATE)\\b",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    /** One statement the server executed: when, in which database, by which application, and its SQL. */
    public record Statement(String at, String database, String application, String sql) {
        public boolean isWrite() {
            return WRITE.matcher(sql).find();
        }

        @Override
        public String toString() {
            String flat = sql.replaceAll("\\s+", " ");
            return at + " db=" + database + " app=" + application + ": "
                    + (flat.length() > 160 ? flat.substring(0, 160) + "…" : flat);
        }
    }

    private final Path file;

    StatementLog(Path file) {
        this.file = file;
    }

    /** The current end of the log: statements logged from now on are after the mark. */
    public long mark() {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Statements logged between two marks ({@code to} = -1: up to now) in {@code database}. */
    public List<Statement> statements(long from, long to, String database) {
        List<Statement> statements = new ArrayList<>();
        String text = read(from, to);
        String[] lines = text.split("\n", -1);
        StringBuilder body = null;
        String[] head = null;
        for (String line : lines) {
            Matcher m = ENTRY.matcher(line);
            if (m.matches()) {
                add(statements, head, body, database);
                head = new String[] {m.group(1), m.group(3), m.group(4), m.group(5)};
                body = new StringBuilder(m.group(6));
            } else if (body != null) {
                body.append('\n').append(line); // a multi-line statement continues without the prefix
            }
        }
        add(statements, head, body, database);
        return statements;
    }

    /** The writes among {@link #statements}. */
    public List<Statement> writes(long from, long to, String database) {
        return statements(from, to, database).stream()
                .filter(Statement::isWrite)
                .toList();
    }

    private static void add(List<Statement> statements, String[] head, StringBuilder body, String database) {
        if (head == null || !head[3].equals("LOG") || !head[1].equals(database)) return;
        Matcher executed = EXECUTED.matcher(body);
        if (executed.matches())
            statements.add(
                    new Statement(head[0], head[1], head[2], executed.group(1).strip()));
    }

    private String read(long from, long to) {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long end = to < 0 ? in.length() : Math.min(to, in.length());
            if (end <= from) return "";
            byte[] bytes = new byte[(int) (end - from)];
            in.seek(from);
            in.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
