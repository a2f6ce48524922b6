package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** What a load process reports must arrive intact: the latency histogram crosses the process boundary as JSON. */
class LoadResultTest {
    @Test
    void histogramSurvivesTheTripThroughJson() throws Exception {
        LatencyHistogram h = new LatencyHistogram();
        for (long v : new long[] {5, 5, 90, 1_500, 12_345, 250_000, 3_000_000}) h.record(v);
        ObjectNode r = new ObjectMapper().createObjectNode();
        var buckets = r.putArray("histogram");
        for (long v : h.sparse()) buckets.add(v);
        r.put("maxMicros", h.max());

        LatencyHistogram back = LoadProcess.histogram(new ObjectMapper().readTree(r.toString()));

        assertThat(back.count()).isEqualTo(7);
        assertThat(back.max()).isEqualTo(3_000_000);
        for (double p : new double[] {10, 50, 75, 90, 99, 100})
            assertThat(back.percentile(p)).isEqualTo(h.percentile(p));
    }

    @Test
    void pacedResultReadsCountsAndStatuses() throws Exception {
        var r = new ObjectMapper()
                .readTree(
                        "{\"acceptedEvents\":1200,\"sentEvents\":1300,\"okInWindow\":10,\"errors\":1,\"unfinished\":2,"
                                + "\"connectionsUsed\":7,\"non200\":{\"503\":4},\"histogram\":[0,0],\"maxMicros\":0}");

        PacedLoad.Result p = LoadProcess.pacedResult(r);

        assertThat(p.acceptedEvents()).isEqualTo(1200);
        assertThat(p.sentEvents()).isEqualTo(1300);
        assertThat(p.non200()).containsEntry(503, 4L);
        assertThat(p.connectionsUsed()).isEqualTo(7);
    }

    @Test
    void eventsAreOrderCompletedOfRealisticSize() {
        BenchEvents generator = new BenchEvents();
        var events = generator.events(1_000);
        var sizes =
                generator.eventBodies(events).stream().mapToInt(b -> b.length).summaryStatistics();

        assertThat(events).allSatisfy(e -> {
            assertThat(e.get("event").asText()).isEqualTo("Order Completed");
            assertThat(e.at("/properties/products").isArray()).isTrue();
            assertThat(e.at("/context/ip").isTextual()).isTrue();
        });
        assertThat(sizes.getAverage()).isBetween(500.0, 600.0);
        assertThat(events.stream().map(e -> e.get("userId").asText()).distinct().count())
                .isGreaterThan(500);
    }
}
