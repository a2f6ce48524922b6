package io.sluice.cli;

import io.sluice.archive.Archive;
import io.sluice.config.SluiceConfig;
import io.sluice.config.SluiceConfig.SyncSettings;
import io.sluice.db.QueueDatabase;
import io.sluice.kafka.KafkaClients;
import io.sluice.planner.BackfillWindows;
import io.sluice.queue.Backfill;
import io.sluice.queue.BackfillStore;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Backfill and replay a sync from the events topic (docs/replay.md): {@code sluice sync backfill SYNC --from TIME
 * [--to TIME] [--rate N] [--dry-run]}, {@code sluice sync backfills}, {@code sluice sync backfill-status ID} and
 * {@code backfill-pause|backfill-resume|backfill-cancel ID}. Writes go straight to the queue database; a running
 * planner plans the backfill.
 */
@Command(
        name = "sync",
        mixinStandardHelpOptions = true,
        description = "Backfill a sync from history, and follow, pause, resume or cancel backfills.",
        subcommands = {
            SyncCommand.Start.class,
            SyncCommand.List.class,
            SyncCommand.Status.class,
            SyncCommand.Pause.class,
            SyncCommand.Resume.class,
            SyncCommand.Cancel.class
        })
final class SyncCommand {

    static KafkaClients kafka(SluiceConfig config) {
        var kafka = config.kafka();
        String bootstrap = kafka.embedded() ? "127.0.0.1:" + kafka.embeddedPort() : kafka.bootstrapServers();
        return new KafkaClients(bootstrap, kafka.clientProperties());
    }

    static BackfillStore store(SluiceConfig config, QueueDatabase db) {
        return new BackfillStore(db.dataSource(), config.kafka().eventsTopic(), DlqCommand.openGate());
    }

    static void print(Backfill b) {
        System.out.printf(
                "backfill %d  sync %s  %s  %s .. %s  %d events/s%n  planned %d events in %d batches; delivered %d,"
                        + " waiting %d, dead %d batches; %d offsets left to plan%n",
                b.id(),
                b.syncId(),
                b.status().sql(),
                b.from(),
                b.to() == null ? "(end at creation)" : b.to(),
                b.ratePerSecond(),
                b.plannedEvents(),
                b.plannedBatches(),
                b.deliveredBatches(),
                b.unfinishedBatches(),
                b.deadBatches(),
                b.offsetsLeft());
    }

    @Command(
            name = "backfill",
            mixinStandardHelpOptions = true,
            description = "Plan a window of the events topic again for one sync, as its own rate-limited lane.")
    static final class Start implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Parameters(index = "0", description = "The sync id.")
        String sync;

        @Option(names = "--from", required = true, description = "Start of the window (ISO instant, inclusive).")
        Instant from;

        @Option(names = "--to", description = "End of the window (ISO instant, exclusive; default: the end now).")
        Instant to;

        @Option(
                names = "--rate",
                defaultValue = "" + BackfillWindows.DEFAULT_RATE,
                description = "At most this many events per second (default: ${DEFAULT-VALUE}).")
        int rate;

        @Option(names = "--dry-run", description = "Only count the events and batches it would send.")
        boolean dryRun;

        @Override
        public Integer call() throws Exception {
            SluiceConfig loaded = config.load();
            SyncSettings settings = loaded.syncs().stream()
                    .filter(s -> s.id().equals(sync))
                    .findFirst()
                    .orElse(null);
            if (settings == null) {
                System.err.println("No sync '" + sync + "' in the configuration.");
                return 2;
            }
            BackfillWindows windows = new BackfillWindows(
                    kafka(loaded),
                    loaded.kafka().eventsTopic(),
                    Archive.open(loaded.archive(), loaded.kafka().eventsTopic()));
            if (dryRun) {
                var dry = windows.dryRun(settings, windows.resolve(from, to));
                System.out.printf(
                        "dry run: sync %s -> destination %s: %d events in %d batches%n",
                        dry.syncId(), dry.destination(), dry.events(), dry.batches());
                return 0;
            }
            try (QueueDatabase db = DlqCommand.database(loaded)) {
                BackfillStore store = store(loaded, db);
                long id = windows.create(
                        store, settings, from, to, rate, DbCommand.operator(), SluiceCli.CLOCK.instant());
                print(store.get(id).orElseThrow());
                return 0;
            } catch (BackfillStore.AlreadyOpenException | IllegalArgumentException e) {
                System.err.println(e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "backfills", mixinStandardHelpOptions = true, description = "The newest backfills.")
    static final class List implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(names = "--limit", defaultValue = "20", description = "At most this many (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() throws Exception {
            SluiceConfig loaded = config.load();
            try (QueueDatabase db = DlqCommand.database(loaded)) {
                var all = store(loaded, db).list(limit);
                if (all.isEmpty()) System.out.println("No backfills.");
                all.forEach(SyncCommand::print);
            }
            return 0;
        }
    }

    /** The commands that name one backfill. */
    abstract static class OneBackfill implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Parameters(index = "0", description = "The backfill id.")
        long id;

        abstract boolean apply(BackfillStore store) throws Exception;

        @Override
        public Integer call() throws Exception {
            SluiceConfig loaded = config.load();
            try (QueueDatabase db = DlqCommand.database(loaded)) {
                BackfillStore store = store(loaded, db);
                if (store.get(id).isEmpty()) {
                    System.err.println("No backfill " + id + ".");
                    return 2;
                }
                boolean changed = apply(store);
                print(store.get(id).orElseThrow());
                return changed ? 0 : 1;
            }
        }
    }

    @Command(name = "backfill-status", mixinStandardHelpOptions = true, description = "One backfill's progress.")
    static final class Status extends OneBackfill {
        @Override
        boolean apply(BackfillStore store) {
            return true;
        }
    }

    @Command(name = "backfill-pause", mixinStandardHelpOptions = true, description = "Stop planning a backfill.")
    static final class Pause extends OneBackfill {
        @Override
        boolean apply(BackfillStore store) throws Exception {
            return store.pause(id, SluiceCli.CLOCK.instant());
        }
    }

    @Command(name = "backfill-resume", mixinStandardHelpOptions = true, description = "Resume a paused backfill.")
    static final class Resume extends OneBackfill {
        @Override
        boolean apply(BackfillStore store) throws Exception {
            return store.resume(id, SluiceCli.CLOCK.instant());
        }
    }

    @Command(
            name = "backfill-cancel",
            mixinStandardHelpOptions = true,
            description = "Cancel a backfill: nothing more is planned, its batches not yet claimed are dropped.")
    static final class Cancel extends OneBackfill {
        @Override
        boolean apply(BackfillStore store) throws Exception {
            return store.cancel(id, SluiceCli.CLOCK.instant());
        }
    }
}
