package io.sluice.db;

import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/** Runs work in one transaction: committed if it returns, rolled back if it throws. */
public final class Transactions {
    private Transactions() {}

    @FunctionalInterface
    public interface Work {
        void run(Connection connection) throws SQLException;
    }

    public static void run(DataSource dataSource, Work work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                work.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }
}
