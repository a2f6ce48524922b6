package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.bench.chaos.RoleKillRun;
import io.sluice.support.TestEvents;
import io.sluice.support.TestKafka;
import io.sluice.support.TestPostgres;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scenarios 1 and 3 of docs/reliability.md: two collector processes side by side, a planner (with the violation
 * writer) and a worker, each its own JVM from target/sluice.jar, delivering to the warehouse, a webhook and a Kafka
 * mirror; every role SIGKILLed in turn at seeded moments under SDK-like load ({@link RoleKillRun}, which
 * {@code sluice bench chaos} runs for longer). Every acknowledged event is in Kafka and delivered to all three
 * destinations; what reached a destination twice is counted where nothing dedupes; the warehouse dedupes.
 */
class RoleKillChaosIT {
    static final long SEED = Long.getLong("chaos.seed", 14L);
    static final int ROUNDS = Integer.getInteger("chaos.rounds", 2);

    @TempDir
    Path dir;

    @Test
    void everyRoleKilledInTurnLosesNothingAndDuplicatesAreCounted() throws Exception {
        ChaosReport report = new ChaosReport("role-kills");
        try {
            RoleKillRun.Result result = new RoleKillRun(new RoleKillRun.Options(
                            TestKafka.bootstrapServers(),
                            TestEvents.createTopic("roles-mirror", 4),
                            TestPostgres.createDatabase("roles_q"),
                            TestPostgres.createDatabase("roles_wh"),
                            TestPostgres.USER,
                            Path.of("target", "sluice.jar").toAbsolutePath(),
                            dir,
                            SEED,
                            ROUNDS,
                            Duration.ZERO,
                            Duration.ofSeconds(180),
                            line -> System.out.println("[chaos role-kills] " + line)))
                    .run();
            result.lines().forEach(line -> report.line("%s", line));
            assertThat(result.schedule()).hasSize(ROUNDS * 4);
            assertThat(result.lostInKafka()).as("acknowledged but not in Kafka").isZero();
            result.destinations()
                    .forEach((name, delivered) -> assertThat(delivered.missing())
                            .as("acked - delivered at " + name)
                            .isZero());
            assertThat(result.destinations().get("warehouse").twice())
                    .as("the warehouse dedupes retried messageIds")
                    .isZero();
        } finally {
            report.write();
        }
    }
}
