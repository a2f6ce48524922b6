package io.sluice.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.runtime.Sluice;
import io.sluice.support.TestKafka;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A contract is checked as a whole at startup: its shape, and each schema against the 2020-12 meta-schema. */
class ContractShapeTest {

    static Contracts inline(String contractYaml) {
        return Contracts.from(new ConfigLoader(Map.of()).loadYaml("""
                sources:
                  - id: ok
                    writeKey: wk_ok
                  - id: web
                    writeKey: wk_web
                    contract:
                %s""".formatted(contractYaml.indent(6))));
    }

    static void refused(String contractYaml, String... fragments) {
        assertThatThrownBy(() -> inline(contractYaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("Invalid configuration: sources[1].contract: ")
                .hasMessageContainingAll(fragments);
    }

    @Test
    void aValidInlineContractCompiles() {
        Contracts contracts = inline("""
                unplannedEvents: block
                violations: omit
                events:
                  "Order Completed": {properties: {type: object, properties: {total: {type: number}}}}
                  "Signed Up": {}
                  Viewed:
                identify: {traits: {type: object}}
                group: {traits: true}
                """);
        assertThat(contracts.forSource("ok")).isNull();
        Contract contract = contracts.forSource("web");
        assertThat(contract.unplanned()).isEqualTo(Contract.Unplanned.BLOCK);
        assertThat(contract.onViolation()).isEqualTo(Contract.OnViolation.OMIT);
        assertThat(contract.plannedEvents()).containsExactlyInAnyOrder("Order Completed", "Signed Up", "Viewed");
        assertThat(contract.checksIdentify()).isTrue();
        assertThat(contract.checksGroup()).isTrue();
        assertThat(contracts.violationsTopic()).isEqualTo("sluice.violations");
    }

    @Test
    void shapeErrorsNameTheKeyAndAreAllReported() {
        refused(
                """
                unplannedEvents: maybe
                violations: drop
                evnts: {}
                """,
                "unplannedEvents: must be one of allow, block, not 'maybe'",
                "violations: must be one of allow, block, omit, not 'drop'",
                "evnts: unknown key");
        refused("events: [a, b]", "events: must be a mapping of event name to its plan");
        refused(
                "events: {\"Order Completed\": {propertys: {type: object}}}",
                "events.\"Order Completed\".propertys: unknown key");
        refused("identify: {type: object}", "identify.type: unknown key (known here: description, traits)");
        refused("formats: strict", "formats: must be one of annotate, assert");
        refused("[1, 2]", "must be a mapping or the path of a contract file");
    }

    @Test
    void schemasAreCheckedAgainstTheMetaSchema() {
        refused(
                "events: {E: {properties: {type: object, properties: {total: {type: numbr}}}}}",
                "events.E.properties.properties.total.type: does not have a value in the enumeration");
        refused(
                "events: {E: {properties: {type: object, required: total}}}",
                "events.E.properties.required: string found, array expected");
        refused("identify: {traits: 42}", "identify.traits: must be a JSON Schema");
        refused(
                "group: {traits: {type: object, properties: {plan: {pattern: \"[a-\"}}}}",
                "group.traits: the schema does not compile");
        refused(
                "events: {E: {properties: {$ref: \"#/$defs/missing\"}}}",
                "events.E.properties: the schema does not compile");
    }

    @Test
    void schemasAreNeverFetched() {
        // No network: remote and file references are refused at startup instead of being loaded.
        refused(
                "events: {E: {properties: {$ref: \"https://schemas.example.invalid/order.json\"}}}",
                "not allowed to be loaded");
        refused("events: {E: {properties: {$ref: \"file:///etc/passwd\"}}}", "not allowed to be loaded");
    }

    @Test
    void aContractFileIsResolvedAgainstTheConfigDirectoryAndErrorsCarryLineNumbers(@TempDir Path dir)
            throws IOException {
        Files.createDirectories(dir.resolve("contracts"));
        Files.writeString(dir.resolve("contracts/web.yaml"), """
                violations: block
                events:
                  "Order Completed":
                    properties:
                      type: object
                      properties:
                        total: {type: number}
                """);
        Path config = dir.resolve("sluice.yaml");
        Files.writeString(config, "sources: [{id: web, writeKey: wk_web, contract: contracts/web.yaml}]\n");
        SluiceConfig loaded = new ConfigLoader(Map.of()).load(config);
        assertThat(Contracts.from(loaded).forSource("web").onViolation()).isEqualTo(Contract.OnViolation.BLOCK);

        Files.writeString(dir.resolve("contracts/web.yaml"), """
                violations: block
                events:
                  "Order Completed":
                    properties:
                      type: object
                      properties:
                        total: {type: numbr}
                        currency:
                          minLength: -1
                identify:
                  trait: {}
                """);
        assertThatThrownBy(() -> Contracts.from(loaded))
                .isInstanceOf(ConfigException.class)
                .hasMessageContainingAll(
                        "sources[0].contract: in " + dir.resolve("contracts/web.yaml"),
                        "line 7: events.\"Order Completed\".properties.properties.total.type: does not have a value in the enumeration",
                        "line 9: events.\"Order Completed\".properties.properties.currency.minLength: ",
                        "line 11: identify.trait: unknown key");
    }

    @Test
    void yamlErrorsDuplicateKeysAndMissingFilesAreReported(@TempDir Path dir) throws IOException {
        ContractReader reader = new ContractReader();
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "events:\n  E:\n    properties: {type: object\n  F: {}\n");
        assertThatThrownBy(() -> reader.readFile("web", broken))
                .isInstanceOf(ContractException.class)
                .satisfies(e -> assertThat(((ContractException) e).problems())
                        .singleElement()
                        .satisfies(p -> assertThat(p.line()).isBetween(3, 5)));
        Path duplicate = dir.resolve("duplicate.yaml");
        Files.writeString(duplicate, "events:\n  E: {}\n  E: {}\n");
        assertThatThrownBy(() -> reader.readFile("web", duplicate))
                .isInstanceOf(ContractException.class)
                .hasMessageContaining("line 3: ")
                .hasMessageContaining("Duplicate field 'E'");
        assertThatThrownBy(() -> reader.readFile("web", dir.resolve("missing.yaml")))
                .isInstanceOf(ContractException.class)
                .hasMessageContaining("the file does not exist");
    }

    @Test
    void theCollectorRefusesToStartWithABrokenContract() {
        SluiceConfig config =
                new ConfigLoader(Map.of()).loadYaml("""
                kafka: {bootstrapServers: "%s", eventsTopic: contract-shape-%s}
                collector: {host: 127.0.0.1, port: 0}
                admin: {host: 127.0.0.1, port: 0}
                sources: [{id: web, writeKey: wk_web, contract: {violations: sometimes}}]
                """.formatted(TestKafka.bootstrapServers(), UUID.randomUUID()));
        try (Sluice sluice = new Sluice(config, EnumSet.of(Sluice.Role.COLLECTOR), false, Clock.systemUTC())) {
            assertThatThrownBy(sluice::start)
                    .isInstanceOf(ConfigException.class)
                    .hasMessage(
                            "Invalid configuration: sources[0].contract: violations: must be one of allow, block, omit, not 'sometimes'");
        }
    }

    @Test
    void formatIsNotAssertedUnlessTheContractAsksForIt() {
        String plan = "identify: {traits: {type: object, properties: {email: {type: string, format: email}}}}";
        ObjectNode identify =
                new ObjectMapper().createObjectNode().put("type", "identify").put("messageId", "m1");
        identify.putObject("traits").put("email", "not-an-email");
        List<Violation> violations = new ArrayList<>();
        assertThat(inline(plan).forSource("web").admit(identify, Instant.EPOCH, violations))
                .isTrue();
        assertThat(violations).isEmpty();

        assertThat(inline("violations: block\nformats: assert\n" + plan)
                        .forSource("web")
                        .admit(identify, Instant.EPOCH, violations))
                .isFalse();
        assertThat(violations).singleElement().satisfies(v -> {
            assertThat(v.rule()).isEqualTo("format");
            assertThat(v.path()).isEqualTo("$.traits.email");
            assertThat(v.message()).contains("email");
        });
    }

    @Test
    void anEventRecordsAtMostTwentyViolations() {
        Contract contract = inline(
                        "violations: omit\nevents: {E: {properties: {type: object, properties: {list: {items: {type: string}}}}}}")
                .forSource("web");
        ObjectNode event = new ObjectMapper()
                .createObjectNode()
                .put("type", "track")
                .put("event", "E")
                .put("messageId", "m1");
        var list = event.putObject("properties").put("keep", 1).putArray("list");
        for (int i = 0; i < 500; i++) list.add(i);
        List<Violation> violations = new ArrayList<>();
        assertThat(contract.admit(event, Instant.EPOCH, violations)).isTrue();
        assertThat(violations).hasSize(Contract.MAX_RECORDED_PER_EVENT);
        assertThat(violations.get(19).path()).isEqualTo("$.properties.list[19]");
        assertThat(event.get("properties").toString()).isEqualTo("{\"keep\":1}");
    }
}
