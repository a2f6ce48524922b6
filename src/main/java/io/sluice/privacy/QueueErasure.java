package io.sluice.privacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.db.WritePermits;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Deletes people's events from the queue database: the retry queue ({@code retry_events}) and the dead letters
 * ({@code dead_letters}). Both keep each event's exact bytes, and a person may be named by the userId or the
 * anonymousId of an event, so the rows are read in chunks and matched on the parsed event (these tables hold the
 * exceptions of delivery, not the stream). Each chunk's delete passes the write permits.
 */
final class QueueErasure {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1_000;
    static final List<String> TABLES = List.of("retry_events", "dead_letters");

    private final DataSource dataSource;
    private final WritePermits permits;

    QueueErasure(DataSource dataSource, WritePermits permits) {
        this.dataSource = dataSource;
        this.permits = permits;
    }

    /** @return "n retry events, m dead letters" */
    String erase(Set<String> ids) throws SQLException {
        long retries = erase("retry_events", ids);
        long dead = erase("dead_letters", ids);
        return retries + " retry events, " + dead + " dead letters";
    }

    long erase(String table, Set<String> ids) throws SQLException {
        long deleted = 0;
        long after = 0;
        while (true) {
            List<Long> matching = new ArrayList<>();
            int read = 0;
            try (Connection c = dataSource.getConnection();
                    PreparedStatement ps = c.prepareStatement(
                            "SELECT id, event FROM " + table + " WHERE id > ? ORDER BY id LIMIT " + CHUNK)) {
                ps.setLong(1, after);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        read++;
                        after = rs.getLong(1);
                        if (names(rs.getBytes(2), ids)) matching.add(after);
                    }
                }
            }
            if (!matching.isEmpty()) {
                try (var permit = permits.enter(WritePermits.Work.NEW);
                        Connection c = dataSource.getConnection();
                        PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE id = ANY(?)")) {
                    ps.setArray(1, c.createArrayOf("bigint", matching.toArray()));
                    deleted += ps.executeUpdate();
                }
            }
            if (read < CHUNK) return deleted;
        }
    }

    private static boolean names(byte[] event, Set<String> ids) {
        try {
            JsonNode node = JSON.readTree(event);
            return named(node.get("userId"), ids) || named(node.get("anonymousId"), ids);
        } catch (IOException e) {
            return false; // not JSON: no ids to match (the collector only stores valid JSON)
        }
    }

    private static boolean named(JsonNode id, Set<String> ids) {
        return id != null && id.isValueNode() && !id.isNull() && ids.contains(id.asText());
    }
}
