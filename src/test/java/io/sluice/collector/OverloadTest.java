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
import org.junit.jupiter.api.Test;

/**
 * Memory held by requests is bounded: when slow uploads hold the whole in-flight budget, further requests are
 * refused at once with 429 and Retry-After rather than queued; once the budget frees up they succeed.
 */
class OverloadTest {

    @Test
    void requestsBeyondTheInFlightBudgetGet429Quickly() throws Exception {
        try (TestCollector collector = TestCollector.start(TestKafka.bootstrapServers(),
                "maxRequestSize: 64KB\nmaxInFlightBytes: 128KB", Clock.systemUTC())) {
            URI uri = URI.create(collector.url("/v1/batch"));
            // Two gzip uploads that never finish: each reserves maxRequestSize, together the whole budget.
            try (Socket slow1 = startSlowUpload(uri); Socket slow2 = startSlowUpload(uri)) {
                Thread.sleep(300); // let the server accept both and reserve their budget
                long started = System.nanoTime();
                var refused = post(collector.url("/v1/track"), "{\"userId\":\"u\",\"event\":\"E\"}", "Authorization", basic(TestCollector.WRITE_KEY));
                assertThat(refused.statusCode()).isEqualTo(429);
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
                assertThat(refused.body()).contains("\"rule\":\"overloaded\"");
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
            }
            // The aborted uploads release their reservation; the collector serves again.
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    post(collector.url("/v1/track"), "{\"userId\":\"u\",\"event\":\"E\"}", "Authorization", basic(TestCollector.WRITE_KEY)).statusCode() == 200);
        }
    }

    private static Socket startSlowUpload(URI uri) throws Exception {
        Socket socket = new Socket(uri.getHost(), uri.getPort());
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + uri.getPath() + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nAuthorization: " + basic(TestCollector.WRITE_KEY)
                + "\r\nContent-Encoding: gzip\r\nContent-Length: 60000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[] {0x1f, (byte) 0x8b}); // the start of a gzip stream, and then nothing
        out.flush();
        return socket;
    }
}
