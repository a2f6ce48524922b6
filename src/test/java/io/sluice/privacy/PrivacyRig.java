package io.sluice.privacy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.sluice.runtime.Sluice;
import io.sluice.support.Http;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Helpers of the privacy tests: events to a collector, requests to the admin API, counts in a database. */
final class PrivacyRig {
    static final String TOKEN = "privacy-token";
    static final String WRITE_KEY = "wk_privacy";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PrivacyRig() {}

    /** Posts one event (a JSON object without writeKey) to the collector; asserts the SDK's 200. */
    static void send(Sluice collector, String path, String event) {
        HttpResponse<String> response = Http.post(
                collector.collectorUrl() + "/v1/" + path,
                event,
                "Authorization",
                Http.basic(WRITE_KEY),
                "Content-Type",
                "application/json");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    static String track(String messageId, String userId, String anonymousId, String name) {
        return "{\"type\":\"track\",\"event\":\"" + name + "\",\"messageId\":\"" + messageId + "\""
                + (userId == null ? "" : ",\"userId\":\"" + userId + "\"")
                + (anonymousId == null ? "" : ",\"anonymousId\":\"" + anonymousId + "\"")
                + ",\"properties\":{\"n\":1}}";
    }

    /** Submits a request over the admin API and returns its id. */
    static long submit(Sluice process, String type, String... ids) throws Exception {
        StringBuilder body =
                new StringBuilder("{\"type\":\"" + type + "\",\"requestedBy\":\"dpo@example.com\",\"userIds\":[");
        for (int i = 0; i < ids.length; i++)
            body.append(i == 0 ? "" : ",").append('"').append(ids[i]).append('"');
        body.append("]}");
        HttpResponse<String> response = Http.post(
                process.adminUrl() + "/admin/privacy/requests",
                body.toString(),
                "Authorization",
                "Bearer " + TOKEN,
                "Content-Type",
                "application/json");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body()).get("id").asLong();
    }

    static JsonNode request(Sluice process, long id) throws Exception {
        HttpResponse<String> response = Http.request(
                "GET", process.adminUrl() + "/admin/privacy/requests/" + id, "Authorization", "Bearer " + TOKEN);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    static JsonNode target(JsonNode request, String name) {
        for (JsonNode t : request.get("targets")) if (t.get("target").asText().equals(name)) return t;
        throw new AssertionError("no target " + name + " in " + request);
    }

    static double counter(Sluice process, String name) {
        Counter counter = process.registry().find(name).counter();
        return counter == null ? 0 : counter.count();
    }

    static double counterSum(Sluice process, String name) {
        return process.registry().find(name).counters().stream()
                .mapToDouble(Counter::count)
                .sum();
    }

    static long count(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
