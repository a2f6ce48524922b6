package io.sluice.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Time and metrics are injected: the composition roots ({@code runtime.Sluice}, and {@code cli.SluiceCli} for the
 * commands without a Sluice of their own) build the one {@link Clock} and the one meter registry and hand them to
 * every part, so tests can use a manual clock and their own registry. Nothing uses Micrometer's global registry.
 */
class InjectedTimeAndMetricsTest {
    private static final String[] ROOTS = {"io.sluice.runtime.Sluice", "io.sluice.cli.SluiceCli"};

    /**
     * Remaining wall-clock reads, each a known debt: topic set-up waits in real time (a blocking Kafka wait paired
     * with a real sleeper), and QueueStore's ungated constructor that only tests use.
     */
    private static final String[] NOT_YET_INJECTED = {
        "io.sluice.kafka.EventsTopic", "io.sluice.contract.ViolationsTopic", "io.sluice.queue.QueueStore"
    };

    /** The benchmarks (src/bench, in io.sluice.bench or next to what they measure, named *Bench) are tools, not Sluice. */
    private static JavaClasses classes;

    @BeforeAll
    static void importProductionClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.sluice");
    }

    @Test
    void nothingUsesMicrometersGlobalRegistry() {
        noClasses()
                .should()
                .dependOnClassesThat()
                .areAssignableTo(Metrics.class)
                .check(classes);
    }

    @Test
    void onlyTheCompositionRootsBuildAClockOrARegistry() {
        noClasses()
                .that()
                .doNotHaveFullyQualifiedName(ROOTS[0])
                .and()
                .doNotHaveFullyQualifiedName(ROOTS[1])
                .and()
                .resideOutsideOfPackage("io.sluice.bench..")
                .and()
                .haveSimpleNameNotEndingWith("Bench")
                .and()
                .doNotHaveFullyQualifiedName(NOT_YET_INJECTED[0])
                .and()
                .doNotHaveFullyQualifiedName(NOT_YET_INJECTED[1])
                .and()
                .doNotHaveFullyQualifiedName(NOT_YET_INJECTED[2])
                .should()
                .callMethod(Clock.class, "systemUTC")
                .orShould()
                .callMethod(Clock.class, "systemDefaultZone")
                .orShould()
                .callConstructor(SimpleMeterRegistry.class)
                .check(classes);
    }

    @Test
    void nothingReadsTheWallClockBehindTheInjectedOne() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.sluice.bench..")
                .and()
                .haveSimpleNameNotEndingWith("Bench")
                .should()
                .callMethod(Instant.class, "now")
                .orShould()
                .callMethod(System.class, "currentTimeMillis")
                .check(classes);
    }
}
