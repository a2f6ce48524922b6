package io.sluice.architecture;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.sluice.kafka.KafkaClients;
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
}
