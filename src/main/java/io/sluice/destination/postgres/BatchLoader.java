package io.sluice.destination.postgres;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Loads one batch inside the caller's transaction (docs/warehouse.md, "Loading"): the event tables' rows go into
 * one temporary staging table ({@link EventStage}, dropped at commit) by one {@code COPY … FROM STDIN (FORMAT csv)},
 * then each table gets one {@code INSERT … SELECT … ON CONFLICT (id) DO NOTHING} — a messageId already loaded is
 * skipped, so retries and replays add nothing. Users have a staging table of their own and are merged by
 * {@link UserStage}. Four round trips per batch whatever its size: create, COPY, COPY users, insert.
 */
final class BatchLoader {
    private BatchLoader() {}

    static void load(
            Connection c,
            String schema,
            SortedMap<String, TableRows> tables,
            Map<String, Map<String, ColumnType>> types)
            throws SQLException, IOException {
        List<TableRows> eventTables = new ArrayList<>();
        TableRows users = null;
        for (TableRows rows : tables.values()) {
            if (rows.users) users = rows;
            else eventTables.add(rows);
        }
        List<EventStage> stages = EventStage.plan(eventTables);
        UserStage userStage = users == null ? null : new UserStage("sluice_stage_users", users, types.get(users.table));
        StringBuilder create = new StringBuilder();
        for (EventStage stage : stages) create.append(stage.createSql()).append(";\n");
        if (userStage != null) create.append(userStage.createSql()).append(";\n");
        // inserts in table-name order, whichever stage holds them: every worker takes row locks in the same order
        StringBuilder insert = new StringBuilder();
        for (TableRows rows : tables.values()) {
            if (rows.users) {
                insert.append(userStage.mergeSql(schema)).append(";\n");
                continue;
            }
            EventStage stage = stages.stream()
                    .filter(s -> s.tables.contains(rows))
                    .findFirst()
                    .orElseThrow();
            insert.append(stage.insertSql(schema, rows, types.get(rows.table))).append(";\n");
        }
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        try (Statement st = c.createStatement()) {
            st.execute(create.toString());
            for (EventStage stage : stages) copy.copyIn(stage.copySql(), new ByteArrayInputStream(stage.csv(types)));
            if (userStage != null) copy.copyIn(userStage.copySql(), new ByteArrayInputStream(userStage.csv()));
            st.execute(insert.toString());
        }
    }
}
