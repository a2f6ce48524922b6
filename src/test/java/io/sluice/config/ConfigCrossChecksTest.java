package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.sluice.runtime.Configuration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cross-field pass of the configuration step, as a table: each combination that contradicts itself is refused
 * with one one-line message naming the key to change and the key it contradicts; the boundary of each rule is
 * accepted.
 */
class ConfigCrossChecksTest {
    private static final String BASE = """
            sources: [{id: web, writeKey: wk_1}]
            """;
    private static final String HOOKS = """
            destinations: [{id: hooks, type: webhook, url: "http://127.0.0.1:9/hook", %s}]
            """;
    private static final String MIRROR = """
            destinations: [{id: mirror, type: kafka, bootstrapServers: "127.0.0.1:9092", topic: out, %s}]
            """;

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("worker: {retryBase: 10s, retryCap: 5s}", "worker.retryCap", "worker.retryBase"),
                Arguments.of(
                        "worker: {leaseDuration: 30s, heartbeatInterval: 11s}",
                        "worker.heartbeatInterval",
                        "worker.leaseDuration"),
                Arguments.of(
                        "worker: {leaseDuration: 10s, heartbeatInterval: 10s}",
                        "worker.heartbeatInterval",
                        "worker.leaseDuration"),
                Arguments.of(
                        HOOKS.formatted("retry: {base: 2s, cap: 1s}"), "destination 'hooks' retry.cap", "retry.base"),
                Arguments.of(
                        MIRROR.formatted("retry: {base: 2m, cap: 1m}"), "destination 'mirror' retry.cap", "retry.base"),
                Arguments.of(
                        HOOKS.formatted("circuitBreaker: {window: 10, minimumCalls: 11}"),
                        "destination 'hooks' circuitBreaker.minimumCalls",
                        "circuitBreaker.window"),
                Arguments.of(
                        "collector: {maxInFlightBytes: 100KB}",
                        "collector.maxInFlightBytes",
                        "collector.maxRequestSize"),
                Arguments.of(
                        "collector: {maxRequestSize: 500KB, maxEventSize: 600KB}",
                        "collector.maxEventSize",
                        "collector.maxRequestSize"),
                Arguments.of(
                        "collector: {maxRequestSize: 2MB, maxEventSize: 1MB}",
                        "collector.maxEventSize",
                        "max.request.size"),
                Arguments.of(
                        "kafka: {replicationFactor: 2, minInsyncReplicas: 3}",
                        "kafka.minInsyncReplicas",
                        "kafka.replicationFactor"),
                Arguments.of(
                        MIRROR.formatted("producer: {request.timeout.ms: 30000}"),
                        "destination 'mirror' producer.delivery.timeout.ms",
                        "producer.request.timeout.ms"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("refused")
    void contradictingKeysAreRefusedNamingBoth(String yaml, String key, String contradicted) {
        Throwable refused = catchThrowable(() -> load(yaml));

        assertThat(refused).isInstanceOf(ConfigException.class);
        assertThat(refused.getMessage())
                .startsWith("Invalid configuration: " + key + ": ")
                .contains(contradicted)
                .doesNotContain("\n");
    }

    static Stream<Arguments> accepted() {
        return Stream.of(
                Arguments.of("worker: {retryBase: 5s, retryCap: 5s}"),
                Arguments.of("worker: {leaseDuration: 30s, heartbeatInterval: 10s}"),
                Arguments.of(HOOKS.formatted("retry: {base: 1s, cap: 1s}")),
                Arguments.of(HOOKS.formatted("circuitBreaker: {window: 10, minimumCalls: 10}")),
                Arguments.of("collector: {maxRequestSize: 960KB, maxEventSize: 960KB, maxInFlightBytes: 960KB}"),
                Arguments.of("kafka: {replicationFactor: 3, minInsyncReplicas: 3}"),
                Arguments.of(MIRROR.formatted("producer: {request.timeout.ms: 30000, delivery.timeout.ms: 30005}")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void theBoundaryOfEveryRuleIsAccepted(String yaml) {
        assertThat(load(yaml)).isNotNull();
    }

    @Test
    void theDefaultsPassEveryRule() {
        assertThat(Configuration.check(new ConfigLoader(Map.of()).load(null)).destinations())
                .isNotEmpty();
        assertThat(load(HOOKS.formatted("mode: event")).destinations()).hasSize(1);
    }

    /** The whole configuration step of every command: the loader's checks, then each destination type's. */
    private static SluiceConfig load(String yaml) {
        return Configuration.check(new ConfigLoader(Map.of()).loadYaml(BASE + yaml));
    }
}
