package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.support.TestCollector;
import io.sluice.support.TestKafka;
import io.sluice.support.TopicReader;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** X-Forwarded-For is believed only from configured proxies, read right to left past trusted hops. */
class TrustedProxyTest {

    @Test
    void forwardedForIsBelievedFromTrustedProxiesOnly() {
        try (TestCollector trusting = TestCollector.start(
                TestKafka.bootstrapServers(), "trustedProxies: [127.0.0.0/8, 10.0.0.0/8]", Clock.systemUTC())) {
            assertThat(post(
                                    trusting.url("/v1/track"),
                                    "{\"userId\":\"a\",\"event\":\"E\"}",
                                    "Authorization",
                                    basic(TestCollector.WRITE_KEY),
                                    "X-Forwarded-For",
                                    "198.51.100.7, 203.0.113.5, 10.1.2.3")
                            .statusCode())
                    .isEqualTo(200);
            List<JsonNode> events = TopicReader.readEvents(trusting.bootstrapServers(), trusting.topic(), 1);
            assertThat(events)
                    .singleElement()
                    .satisfies(e -> assertThat(e.at("/context/ip").asText()).isEqualTo("203.0.113.5"));
        }
        try (TestCollector sceptical = TestCollector.start()) {
            assertThat(post(
                                    sceptical.url("/v1/track"),
                                    "{\"userId\":\"a\",\"event\":\"E\"}",
                                    "Authorization",
                                    basic(TestCollector.WRITE_KEY),
                                    "X-Forwarded-For",
                                    "198.51.100.7")
                            .statusCode())
                    .isEqualTo(200);
            List<JsonNode> events = TopicReader.readEvents(sceptical.bootstrapServers(), sceptical.topic(), 1);
            assertThat(events)
                    .singleElement()
                    .satisfies(e -> assertThat(e.at("/context/ip").asText()).isEqualTo("127.0.0.1"));
        }
    }
}
