package io.sluice.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.event.ExactEvent;
import io.sluice.failover.ControlChannel;
import io.sluice.failover.WriteGate;
import io.sluice.failover.WriteHeldException;
import io.sluice.function.Functions;
import io.sluice.queue.DeadLetter;
import io.sluice.queue.DeadLetterReplay;
import io.sluice.queue.DeadLetterStore;
import io.sluice.queue.RetryStore;
import io.sluice.runtime.FunctionReplay;
import io.sluice.worker.WorkerIdentity;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Inspect and replay dead letters: {@code sluice dlq list|show|replay}. */
@Command(
        name = "dlq",
        mixinStandardHelpOptions = true,
        description = "Inspect and replay dead letters.",
        subcommands = {DlqCommand.List.class, DlqCommand.Show.class, DlqCommand.Replay.class})
final class DlqCommand {

    /** The deployment's queue database (the embedded one when the config says so and `sluice start` runs). */
    static QueueDatabase database(SluiceConfig config) {
        var pg = config.postgres();
        String url = pg.embedded() ? "jdbc:postgresql://127.0.0.1:" + pg.embeddedPort() + "/sluice" : pg.url();
        QueueDatabase database = new QueueDatabase(url, pg.user(), pg.password(), 2);
        database.start();
        return database;
    }

    static WriteGate openGate() {
        return new WriteGate(SluiceCli.CLOCK, Duration.ZERO);
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "One line per dead letter: id, time, sync, messageId, attempts, last error.")
    static final class List implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(names = "--sync", description = "Only this sync.")
        String sync;

        @Option(
                names = "--since",
                description = "Only failures since an instant (2026-05-01T10:00:00Z) or a look-back (2h).")
        String since;

        @Option(names = "--limit", defaultValue = "100", description = "At most this many (default: ${DEFAULT-VALUE}).")
        int limit;

        @Option(names = "--all", description = "Include dead letters already replayed.")
        boolean all;

        @Override
        public Integer call() throws Exception {
            try (QueueDatabase db = database(config.load())) {
                var letters = new DeadLetterStore(db.dataSource(), openGate())
                        .list(sync, DeadLetterReplay.parseSince(since, SluiceCli.CLOCK), all, limit);
                if (letters.isEmpty()) System.out.println("No dead letters.");
                for (DeadLetter d : letters) {
                    String error = oneLine(d.error().replaceAll("\\s+", " "));
                    System.out.printf(
                            "%-8d %s  %-20s %-40s %-8s attempts=%-3d %s%s%n",
                            d.id(),
                            d.failedAt(),
                            d.syncId(),
                            oneLine(d.messageId()),
                            d.kind().column(),
                            d.attempts(),
                            error.length() > 100 ? error.substring(0, 100) + "…" : error,
                            d.replayedAt() == null ? "" : "  (replayed " + d.replayedAt() + ")");
                }
                return 0;
            }
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "One dead letter in full: the event, the error, attempts and times.")
    static final class Show implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Parameters(paramLabel = "ID")
        long id;

        @Override
        public Integer call() throws Exception {
            try (QueueDatabase db = database(config.load())) {
                var letters = new DeadLetterStore(db.dataSource(), openGate()).byIds(java.util.List.of(id));
                if (letters.isEmpty()) {
                    System.err.println("No dead letter " + id);
                    return 1;
                }
                DeadLetter d = letters.get(0);
                System.out.println("id:          " + d.id());
                System.out.println("sync:        " + d.syncId());
                System.out.println("messageId:   " + oneLine(d.messageId()));
                System.out.println("attempts:    " + d.attempts());
                System.out.println("status code: " + (d.statusCode() == null ? "-" : d.statusCode()));
                System.out.println("first failed " + d.firstFailedAt() + ", last failed " + d.failedAt()
                        + (d.replayedAt() == null ? "" : ", replayed " + d.replayedAt()));
                System.out.println("kind:        " + d.kind().column());
                System.out.println("error:       " + d.error());
                System.out.println("event:");
                System.out.println(pretty(ExactEvent.bytes(d.event())));
                return 0;
            }
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            description =
                    "Put dead letters back into normal delivery (idempotency keys make replays safe at receivers that honour them)."
                            + " Refused (exit code " + PAUSED_EXIT
                            + ") while queue-database writes are paused for a planned failover, unless --wait.")
    static final class Replay implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(names = "--sync", description = "Only this sync.")
        String sync;

        @Option(names = "--since", description = "Only failures since an instant or a look-back (2h).")
        String since;

        @Option(names = "--ids", split = ",", description = "Only these dead letter ids.")
        java.util.List<Long> ids;

        @Option(
                names = "--wait",
                description =
                        "While writes are paused (sluice db pause), wait for 'sluice db resume' instead of refusing.")
        boolean waitForResume;

        @Override
        public Integer call() throws Exception {
            SluiceConfig loaded = config.load();
            // This command writes the queue database, so it is a writer like any Sluice process: it joins the control
            // topic (reporting itself, so 'db pause' waits for it) and every write passes its gate.
            WriteGate gate = openGate();
            try (ControlChannel control = new ControlChannel(
                    DbCommand.open(loaded),
                    "cli-dlq-replay-" + WorkerIdentity.create(),
                    "dlq-replay",
                    gate,
                    () -> !gate.paused() ? "running" : gate.quiesce(() -> true) ? "quiesced" : "quiescing",
                    () -> null,
                    SluiceCli.CLOCK)) {
                control.start();
                if (gate.paused() && !waitUntilResumed(gate, 0)) return PAUSED_EXIT;
                return replay(loaded, gate);
            }
        }

        private int replay(SluiceConfig loaded, WriteGate gate) throws Exception {
            // Dead letters that failed in a function are replayed through the function as it is now configured.
            Functions functions = loaded.syncs().stream().anyMatch(SluiceConfig.SyncSettings::hasFunction)
                    ? new Functions(loaded, SluiceCli.toolRegistry(), SluiceCli.CLOCK)
                    : null;
            if (functions != null) functions.start();
            try (QueueDatabase db = database(loaded, gate)) {
                var replay = new DeadLetterReplay(
                        new DeadLetterStore(db.dataSource(), gate),
                        new RetryStore(db.dataSource(), gate),
                        SluiceCli.CLOCK,
                        FunctionReplay.of(functions));
                int replayed = 0;
                while (true) {
                    AtomicInteger run = new AtomicInteger();
                    try {
                        replayed +=
                                replay.replay(sync, DeadLetterReplay.parseSince(since, SluiceCli.CLOCK), ids, total -> {
                                    run.set(total);
                                    System.out.println("replayed " + total + "...");
                                });
                        break;
                    } catch (WriteHeldException e) { // paused (or the writer changed) between chunks
                        replayed += run.get();
                        if (!gate.paused()) throw e;
                        if (!waitUntilResumed(gate, replayed)) return PAUSED_EXIT;
                    }
                }
                System.out.println(
                        "Replayed " + replayed + " dead letter(s); workers deliver them through the retry queue.");
                return 0;
            } finally {
                if (functions != null) functions.close();
            }
        }

        /** Refuses (false) or, with --wait, blocks until writes are resumed (true). */
        private boolean waitUntilResumed(WriteGate gate, int replayedSoFar) throws InterruptedException {
            String done = replayedSoFar == 0 ? "nothing replayed" : replayedSoFar + " dead letter(s) replayed so far";
            if (!waitForResume) {
                System.err.println(
                        "Queue-database writes are paused (sluice db pause) for a planned failover: " + done
                                + ". Run this "
                                + "again after 'sluice db resume' (replay is safe to repeat), or add --wait to wait for the resume.");
                return false;
            }
            System.out.println("Queue-database writes are paused (sluice db pause): " + done
                    + "; waiting for 'sluice db resume'...");
            while (gate.paused()) Thread.sleep(250);
            System.out.println("Writes resumed; replaying.");
            return true;
        }
    }

    /**
     * Client text (a messageId) for one line of a terminal: {@code \} as {@code \\}, and control, format (bidi marks),
     * line-separator and lone-surrogate characters as {@code \}{@code uXXXX}, so one dead letter is one line, shown
     * as it is ordered, and two different ids never print the same.
     */
    static String oneLine(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int type = Character.getType(c);
            boolean lone = Character.isSurrogate(c)
                    && !(Character.isHighSurrogate(c)
                            && i + 1 < text.length()
                            && Character.isLowSurrogate(text.charAt(i + 1)))
                    && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(text.charAt(i - 1)));
            if (c == '\\') out.append("\\\\");
            else if (type == Character.CONTROL
                    || type == Character.FORMAT
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR
                    || lone) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }

    /**
     * The stored event, indented for reading: token by token, so repeated keys and key order show as stored and
     * decimals keep their digits ({@code 1.10} stays {@code 1.10}); a number's or an escape's spelling may differ
     * ({@code 1E2} shows as {@code 1E+2}, {@code -0} as {@code 0}). A replay sends the stored bytes, not this.
     */
    static String pretty(byte[] event) throws IOException {
        StringWriter out = new StringWriter();
        JsonFactory factory = new JsonFactory();
        try (JsonParser parser = factory.createParser(event);
                JsonGenerator generator = factory.createGenerator(out).useDefaultPrettyPrinter()) {
            while (parser.nextToken() != null) generator.copyCurrentEventExact(parser);
        }
        return out.toString();
    }

    /** Exit code of a write command refused because queue-database writes are paused. */
    static final int PAUSED_EXIT = 3;

    static QueueDatabase database(SluiceConfig config, WriteGate gate) {
        var pg = config.postgres();
        String url = pg.embedded() ? "jdbc:postgresql://127.0.0.1:" + pg.embeddedPort() + "/sluice" : pg.url();
        QueueDatabase database = new QueueDatabase(url, pg.user(), pg.password(), 2, null, gate, pg.socketTimeout());
        database.start();
        return database;
    }
}
