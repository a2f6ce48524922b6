package io.sluice.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.db.QueueDatabase;
import io.sluice.db.WritePermits;
import io.sluice.support.MutableClock;
import io.sluice.support.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Taking and leasing privacy requests on a real queue database (V19): the 5,000-id cap and the other refusals, the
 * targets a request gets, idempotency keys, suppress/unsuppress kept in order, and a failed target retried later until
 * done, which finishes the request.
 */
class PrivacyRequestsTest {
    private static final SluiceConfig CONFIG = new ConfigLoader(Map.of()).loadYaml("""
            sources: [{id: web, writeKey: wk}]
            destinations:
              - {id: warehouse, type: postgres, url: "jdbc:postgresql://127.0.0.1:1/w", user: u}
              - {id: hooks, type: webhook, url: "http://127.0.0.1:1/h"}
            syncs: [{id: a, source: web, destination: warehouse}, {id: b, source: web, destination: hooks}]
            """);

    @Test
    void requestsAreCheckedStoredLeasedAndRetriedUntilDone() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
        try (QueueDatabase db = new QueueDatabase(TestPostgres.createDatabase("privacy_requests"), "sluice", "", 2)) {
            db.start();
            PrivacyStore store = new PrivacyStore(db.dataSource(), WritePermits.OPEN);
            PrivacyRequests requests = new PrivacyRequests(store, CONFIG, clock);

            List<String> tooMany =
                    IntStream.range(0, 5_001).mapToObj(i -> "u" + i).toList();
            assertThatThrownBy(() -> requests.submit("delete", tooMany, "t", null))
                    .isInstanceOf(PrivacyRequests.Invalid.class)
                    .hasMessage("at most 5000 ids per request, got 5001; split the list into several requests");
            assertThatThrownBy(() -> requests.submit("erase", List.of("u"), "t", null))
                    .isInstanceOf(PrivacyRequests.Invalid.class)
                    .hasMessageContaining("suppress, unsuppress or delete");
            assertThatThrownBy(() -> requests.submit("delete", List.of(), "t", null))
                    .isInstanceOf(PrivacyRequests.Invalid.class);
            assertThatThrownBy(() -> requests.submit("delete", List.of(""), "t", null))
                    .isInstanceOf(PrivacyRequests.Invalid.class);

            List<String> most =
                    IntStream.range(0, 5_000).mapToObj(i -> "user-" + i).toList();
            PrivacyStore.Created delete = requests.submit("delete", most, "cli: dpo", "ticket-1");
            assertThat(delete.created()).isTrue();
            assertThat(requests.submit("delete", List.of("other"), "cli: dpo", "ticket-1"))
                    .isEqualTo(new PrivacyStore.Created(delete.id(), false));
            assertThat(store.ids(delete.id())).hasSize(5_000).contains("user-0", "user-4999");
            PrivacyRequest stored = store.get(delete.id());
            assertThat(stored.requestedBy()).isEqualTo("cli: dpo");
            assertThat(stored.requestedAt()).isEqualTo(clock.instant());
            assertThat(stored.userCount()).isEqualTo(5_000);
            assertThat(stored.targets())
                    .extracting(PrivacyRequest.Target::name)
                    .containsExactly("destination:hooks", "destination:warehouse", "queue");
            assertThat(stored.state()).isEqualTo("pending");

            long suppress = requests.submit("suppress", List.of("a\u0000b", "é"), "t", null)
                    .id();
            long unsuppress =
                    requests.submit("unsuppress", List.of("é"), "t", null).id();
            assertThat(store.ids(suppress)).containsExactlyInAnyOrder("a\u0000b", "é");

            // Now: the queue target and the first suppression; destinations wait SETTLE; the unsuppress waits its turn.
            List<PrivacyStore.Claimed> now = store.claim("w1", clock.instant(), Duration.ofMinutes(2), 10);
            assertThat(now)
                    .extracting(PrivacyStore.Claimed::requestId, PrivacyStore.Claimed::target)
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple(delete.id(), "queue"),
                            org.assertj.core.groups.Tuple.tuple(suppress, "suppression"));
            assertThat(store.claim("w2", clock.instant(), Duration.ofMinutes(2), 10))
                    .as("leased targets are not leased twice")
                    .isEmpty();
            PrivacyStore.Claimed first = now.stream()
                    .filter(c -> c.requestId() == suppress)
                    .findFirst()
                    .orElseThrow();
            assertThat(store.complete(
                            first,
                            "w1",
                            "failed",
                            "broker down",
                            null,
                            clock.instant().plusSeconds(1),
                            clock.instant()))
                    .isTrue();
            assertThat(store.get(suppress).state()).isEqualTo("failed");
            clock.tick(Duration.ofSeconds(6));
            List<PrivacyStore.Claimed> later = store.claim("w2", clock.instant(), Duration.ofMinutes(2), 10);
            assertThat(later)
                    .extracting(PrivacyStore.Claimed::target)
                    .containsExactlyInAnyOrder("destination:hooks", "destination:warehouse", "suppression");
            PrivacyStore.Claimed retried = later.stream()
                    .filter(c -> c.target().equals("suppression"))
                    .findFirst()
                    .orElseThrow();
            assertThat(retried.requestId())
                    .as("unsuppress waits for the earlier suppress")
                    .isEqualTo(suppress);
            assertThat(retried.attempts()).isEqualTo(2);
            assertThat(store.complete(first, "w1", "done", "late", null, null, clock.instant()))
                    .as("a lost lease cannot complete")
                    .isFalse();
            assertThat(store.complete(retried, "w2", "done", "suppressed 2 id(s)", 2L, null, clock.instant()))
                    .isTrue();
            PrivacyRequest done = store.get(suppress);
            assertThat(done.state()).isEqualTo("done");
            assertThat(done.finishedAt()).isEqualTo(clock.instant());
            assertThat(done.targets().get(0).affected()).isEqualTo(2L);
            assertThat(store.claim("w2", clock.instant(), Duration.ofMinutes(2), 10))
                    .extracting(PrivacyStore.Claimed::requestId)
                    .containsExactly(unsuppress);
        }
    }
}
