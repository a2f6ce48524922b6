package io.sluice.cli;

import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.privacy.PrivacyRequest;
import io.sluice.privacy.PrivacyRequests;
import io.sluice.privacy.PrivacyStore;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Privacy requests (docs/privacy.md): {@code sluice privacy suppress|unsuppress|delete --user ID…}, {@code list} and
 * {@code show ID}. A request is stored in the queue database; the workers carry it out and record its state per
 * target.
 */
@Command(
        name = "privacy",
        mixinStandardHelpOptions = true,
        description = "Suppress, unsuppress or delete people's data by userId or anonymousId, and follow the requests.",
        subcommands = {
            PrivacyCommand.Suppress.class,
            PrivacyCommand.Unsuppress.class,
            PrivacyCommand.Delete.class,
            PrivacyCommand.List.class,
            PrivacyCommand.Show.class
        })
final class PrivacyCommand {
    static final int INVALID_EXIT = 2;

    abstract static class Submit implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(
                names = {"--user", "-u"},
                required = true,
                arity = "1..*",
                description = "A userId or anonymousId (repeat, or list several; at most 5,000).")
        java.util.List<String> users;

        @Option(names = "--by", description = "Who asks, for the audit (default: the OS user).")
        String by;

        @Option(names = "--key", description = "Idempotency key: the same key again returns the first request.")
        String key;

        abstract String kind();

        @Override
        public Integer call() throws Exception {
            SluiceConfig loaded = config.load();
            try (QueueDatabase db = DlqCommand.database(loaded)) {
                PrivacyRequests requests = new PrivacyRequests(
                        new PrivacyStore(db.dataSource(), DlqCommand.openGate()), loaded, SluiceCli.CLOCK);
                String who = "cli: " + (by != null ? by : System.getProperty("user.name", "unknown"));
                PrivacyStore.Created created;
                try {
                    created = requests.submit(kind(), users, who, key);
                } catch (PrivacyRequests.Invalid e) {
                    System.err.println(e.getMessage());
                    return INVALID_EXIT;
                }
                System.out.println((created.created() ? "Created" : "Already exists:") + " privacy request "
                        + created.id() + " (" + kind() + ", " + users.size() + " id(s)); follow it with"
                        + " 'sluice privacy show " + created.id() + "'");
                return 0;
            }
        }
    }

    @Command(name = "suppress", mixinStandardHelpOptions = true, description = "Stop collecting these people's events.")
    static final class Suppress extends Submit {
        @Override
        String kind() {
            return "suppress";
        }
    }

    @Command(name = "unsuppress", mixinStandardHelpOptions = true, description = "Collect these people's events again.")
    static final class Unsuppress extends Submit {
        @Override
        String kind() {
            return "unsuppress";
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Delete these people's data from the warehouses, the retry queue and the dead letters, call "
                    + "each webhook's deletionUrl, and discard their older events not yet delivered.")
    static final class Delete extends Submit {
        @Override
        String kind() {
            return "delete";
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The newest requests and their state.")
    static final class List implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Option(names = "--limit", defaultValue = "50", description = "At most this many (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() throws Exception {
            try (QueueDatabase db = DlqCommand.database(config.load())) {
                var requests = new PrivacyStore(db.dataSource(), DlqCommand.openGate()).list(limit);
                if (requests.isEmpty()) System.out.println("No privacy requests.");
                for (PrivacyRequest r : requests) {
                    System.out.printf(
                            "%-6d %-10s %-8s ids=%-5d %s  by %s%n",
                            r.id(), r.kind().column(), r.state(), r.userCount(), r.requestedAt(), r.requestedBy());
                }
                return 0;
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One request with its state per target.")
    static final class Show implements Callable<Integer> {
        @Mixin
        ConfigOption config;

        @Parameters(paramLabel = "ID")
        long id;

        @Override
        public Integer call() throws Exception {
            try (QueueDatabase db = DlqCommand.database(config.load())) {
                PrivacyRequest r = new PrivacyStore(db.dataSource(), DlqCommand.openGate()).get(id);
                if (r == null) {
                    System.err.println("No privacy request " + id);
                    return 1;
                }
                System.out.println("id:           " + r.id());
                System.out.println("type:         " + r.kind().column());
                System.out.println("state:        " + r.state());
                System.out.println("ids:          " + r.userCount());
                System.out.println("requested by: " + r.requestedBy() + " at " + r.requestedAt());
                System.out.println("finished:     " + (r.finishedAt() == null ? "-" : r.finishedAt()));
                for (PrivacyRequest.Target t : r.targets()) {
                    System.out.printf(
                            "  %-28s %-8s attempts=%-3d %s%s%n",
                            t.name(),
                            t.status(),
                            t.attempts(),
                            t.reason() == null ? "" : t.reason(),
                            t.doneAt() == null ? "" : "  (at " + t.doneAt() + ")");
                }
                return 0;
            }
        }
    }
}
