package io.sluice.architecture;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import io.sluice.kafka.KafkaClients;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package map of docs/architecture.md, kept true: stages import only downward, the composition root
 * ({@code runtime}) is imported by {@code cli} alone, the benchmarks by nobody, and the collector role does not pull
 * in the queue database; and every Kafka client is built by {@link KafkaClients}, so the operator's client
 * properties (TLS, SASL) reach all of them.
 */
class ArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importProductionClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.sluice");
    }

    @Test
    void noPackageCycles() {
        slices().matching("io.sluice.(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void onlyTheCliImportsTheCompositionRoot() {
        noClasses()
                .that()
                .resideOutsideOfPackages("io.sluice.runtime", "io.sluice.cli", "io.sluice.bench")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.sluice.runtime")
                .check(classes);
    }

    @Test
    void noProductionPackageDependsOnTheBenchmarks() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.sluice.bench")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.sluice.bench")
                .check(classes);
    }

    @Test
    void lifecycleTypesImportNoStage() {
        noClasses()
                .that()
                .resideInAPackage("io.sluice.lifecycle")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.sluice..")
                .andShould()
                .dependOnClassesThat()
                .resideOutsideOfPackages(
                        "io.sluice.lifecycle..",
                        "java..",
                        "org.slf4j..",
                        "io.javalin..",
                        "org.eclipse.jetty..",
                        "kotlin..")
                .check(classes);
    }

    @Test
    void theCollectorRoleDoesNotPullInTheQueueDatabase() {
        noClasses()
                .that()
                .resideInAnyPackage("io.sluice.collector..", "io.sluice.contract..")
                .should()
                .transitivelyDependOnClassesThat()
                .resideInAnyPackage(
                        "io.sluice.db..",
                        "io.sluice.failover..",
                        "io.sluice.queue..",
                        "io.sluice.planner..",
                        "io.sluice.violations..",
                        "io.sluice.worker..")
                .check(classes);
    }

    /** Production code and the benchmarks (src/bench is imported with the main classes); tests build clients freely. */
    @Test
    void onlyKafkaClientsBuildsKafkaClients() {
        noClasses()
                .that()
                .doNotBelongToAnyOf(KafkaClients.class)
                .should()
                .callConstructorWhere(target(owner(assignableTo(KafkaProducer.class))))
                .orShould()
                .callConstructorWhere(target(owner(assignableTo(KafkaConsumer.class))))
                .orShould()
                .callMethodWhere(target(owner(assignableTo(Admin.class))).and(target(name("create"))))
                .because("KafkaClients applies kafka.clientProperties (TLS, SASL) to every client")
                .check(classes);
    }

    /**
     * The package diagram of docs/architecture.md, row by row from the top: a package may import the packages of
     * the rows under its own, never one of its own row (but for the links drawn across a row) nor one above.
     * Keep this table and the diagram identical.
     */
    private static final List<List<String>> ROWS = List.of(
            List.of("cli", "bench"),
            List.of("runtime"),
            List.of("console"),
            List.of("admin"),
            List.of("collector", "planner", "worker"),
            List.of("privacy"),
            List.of("function", "violations", "destination.postgres", "destination.webhook", "destination.kafka"),
            List.of("destination"),
            List.of("contract", "queue", "suppression", "archive"),
            List.of("failover", "db"),
            List.of("kafka", "embedded"),
            List.of("delivery"),
            List.of("http", "event", "retry", "config", "lifecycle"));

    /** The links drawn across a row ({@code a ─ b}): the first imports the second. */
    private static final Map<String, String> ACROSS_A_ROW =
            Map.of("bench", "cli", "failover", "db", "embedded", "kafka", "event", "config");

    @Test
    void packagesImportOnlyTheRowsBelowThem() {
        List<String> violations = new ArrayList<>();
        for (int row = 0; row < ROWS.size(); row++) {
            for (String pkg : ROWS.get(row)) {
                Set<String> forbidden = new TreeSet<>();
                for (int above = 0; above <= row; above++) {
                    for (String other : ROWS.get(above)) {
                        if (!other.equals(pkg) && !other.equals(ACROSS_A_ROW.get(pkg))) {
                            forbidden.add(packagePattern(other));
                        }
                    }
                }
                EvaluationResult result = noClasses()
                        .that()
                        .resideInAPackage(packagePattern(pkg))
                        .should()
                        .dependOnClassesThat()
                        .resideInAnyPackage(forbidden.toArray(String[]::new))
                        .allowEmptyShould(true)
                        .evaluate(classes);
                violations.addAll(result.getFailureReport().getDetails());
            }
        }
        assertThat(violations)
                .as("imports against the package diagram of docs/architecture.md:%n%s", String.join("\n", violations))
                .isEmpty();
    }

    @Test
    void everyPackageHasARowInTheDiagram() {
        Set<String> drawn = new TreeSet<>();
        ROWS.forEach(drawn::addAll);
        Set<String> packages = new TreeSet<>();
        classes.forEach(c -> packages.add(c.getPackageName().replaceFirst("^io\\.sluice\\.", "")));
        packages.removeIf(pkg -> drawn.stream().anyMatch(d -> pkg.equals(d) || pkg.startsWith(d + ".")));
        assertThat(packages)
                .as("packages missing from the diagram of docs/architecture.md")
                .isEmpty();
    }

    /** A drawn package with its subpackages, but {@code destination} alone: its subpackages are drawn above it. */
    private static String packagePattern(String pkg) {
        return pkg.equals("destination") ? "io.sluice.destination" : "io.sluice." + pkg + "..";
    }
}
