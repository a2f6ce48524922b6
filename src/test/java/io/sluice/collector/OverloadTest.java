package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.support.TestCollector;
import io.sluice.support.TestKafka;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Memory held by requests is bounded: when uploads hold the whole in-flight budget with bytes they really sent,
 * further requests are refused at once with 429 and Retry-After rather than queued; once the budget frees up they
 * succeed. (Declaring a large Content-Length and sending nothing holds nothing: see SlowBodyFloodTest.)
 */
class OverloadTest {

    @Test
    void requestsBeyondTheInFlightBudgetGet429Quickly() throws Exception {
        try (TestCollector collector = TestCollector.start(
                TestKafka.bootstrapServers(), "maxRequestSize: 64KB\nmaxInFlightBytes: 128KB", Clock.systemUTC())) {
            URI uri = URI.create(collector.url("/v1/batch"));
            // Two uploads that stop just short of their end: each holds the 60,000 bytes it sent, together most of the
            // budget.
            try (Socket slow1 = startSlowUpload(uri);
                    Socket slow2 = startSlowUpload(uri)) {
                String padded =
                        "{\"userId\":\"u\",\"event\":\"E\",\"properties\":{\"p\":\"" + "x".repeat(20_000) + "\"}}";
                // The server has taken both uploads in once their reservations hold the budget.
                Awaitility.await()
                        .atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(50))
                        .until(() -> post(
                                                collector.url("/v1/track"),
                                                padded,
                                                "Authorization",
                                                basic(TestCollector.WRITE_KEY))
                                        .statusCode()
                                == 429);
                long started = System.nanoTime();
                var refused = post(collector.url("/v1/track"), padded, "Authorization", basic(TestCollector.WRITE_KEY));
                assertThat(refused.statusCode()).isEqualTo(429);
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                assertThat(refused.body()).contains("\"rule\":\"overloaded\"");
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
            }
            // The aborted uploads release their reservation; the collector serves again.
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> post(
                                            collector.url("/v1/track"),
                                            "{\"userId\":\"u\",\"event\":\"E\"}",
                                            "Authorization",
                                            basic(TestCollector.WRITE_KEY))
                                    .statusCode()
                            == 200);
        }
    }

    private static Socket startSlowUpload(URI uri) throws Exception {
        Socket socket = new Socket(uri.getHost(), uri.getPort());
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + uri.getPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nAuthorization: "
                        + basic(TestCollector.WRITE_KEY) + "\r\nContent-Length: 64000\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(("{\"userId\":\"u\",\"event\":\"" + " ".repeat(60_000))
                .getBytes(StandardCharsets.US_ASCII)); // and then nothing
        out.flush();
        return socket;
    }
}
