package io.sluice.collector;

import static io.sluice.support.Http.basic;
import static io.sluice.support.Http.post;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.support.Gzip;
import io.sluice.support.RawHttp;
import io.sluice.support.TestCollector;
import io.sluice.support.WallClock;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue #12, defect 3: 200 sockets without a write key declare 512,000-byte bodies and trickle them a byte at a
 * time. They hold only what they sent, so a normal client is answered 200 within a second throughout, and Jetty's
 * minimum data rate closes the trickling connections.
 */
class SlowBodyFloodTest {

    /** What the sockets trickle: the start of a plain JSON body, and of a well-formed gzip stream. */
    static final byte[] PLAIN = "{\"batch\":[{\"type\":\"track\"".getBytes();

    static final byte[] GZIP = Gzip.member(PLAIN);

    @Test
    void aSlowBodyFloodDoesNotStarveANormalClient() throws Exception {
        try (TestCollector collector = TestCollector.start()) {
            String url = collector.url("/v1/batch");
            URI uri = URI.create(url);
            // warm up: the first request fetches the topic's metadata, which is not what is measured here
            assertThat(post(
                                    collector.url("/v1/track"),
                                    "{\"userId\":\"u\",\"event\":\"Warm\"}",
                                    "Authorization",
                                    basic(TestCollector.WRITE_KEY))
                            .statusCode())
                    .isEqualTo(200);
            List<Socket> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 200; i++) {
                    Socket socket = new Socket(uri.getHost(), uri.getPort());
                    socket.getOutputStream()
                            .write(
                                    i % 2 == 0
                                            ? RawHttp.head("POST", url, "Content-Length", "512000")
                                            : RawHttp.head(
                                                    "POST",
                                                    url,
                                                    "Content-Length",
                                                    "512000",
                                                    "Content-Encoding",
                                                    "gzip"));
                    socket.getOutputStream().write((i % 2 == 0 ? PLAIN : GZIP)[0]);
                    flood.add(socket);
                }
                WallClock.waitOut(
                        Duration.ofMillis(500),
                        "the server accepts all 200 and blocks reading their bodies (no state to watch from outside)");
                for (int round = 0; round < 6; round++) {
                    for (int i = 0; i < flood.size(); i++) {
                        try {
                            flood.get(i).getOutputStream().write((i % 2 == 0 ? PLAIN : GZIP)[round + 1]);
                        } catch (IOException closedByServer) {
                            // expected once the minimum rate is enforced
                        }
                    }
                    long started = System.nanoTime();
                    var response = post(
                            collector.url("/v1/track"),
                            "{\"userId\":\"u\",\"event\":\"Flood " + round + "\"}",
                            "Authorization",
                            basic(TestCollector.WRITE_KEY));
                    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                    assertThat(Duration.ofNanos(System.nanoTime() - started))
                            .as("round " + round)
                            .isLessThan(Duration.ofSeconds(1));
                    WallClock.waitOut(Duration.ofMillis(500), "the trickle: one byte per socket every half second");
                }
                // The trickling connections were answered 408 and closed (or just closed), not left holding resources.
                int closed = 0;
                for (Socket socket : flood) {
                    socket.setSoTimeout(10_000);
                    try {
                        RawHttp.Response answer = RawHttp.read(socket.getInputStream());
                        if (answer.status() == -1 || answer.status() == 408) closed++;
                    } catch (SocketTimeoutException stillOpen) {
                        // counted as not closed
                    } catch (IOException reset) {
                        closed++;
                    }
                }
                assertThat(closed).isEqualTo(200);
            } finally {
                for (Socket socket : flood) socket.close();
            }
        }
    }
}
