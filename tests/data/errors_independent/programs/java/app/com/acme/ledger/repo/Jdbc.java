package com.acme.ledger.repo;

import java.sql.SQLException;

/** The connection wrapper both repositories use. */
final class Jdbc {
    // @release-insert
    private Jdbc() {}

    static Object query(String host, String sql) throws SQLException {
        throw new SQLException("connection reset by peer (" + host + ":5432) while executing " + sql, "08006");
    }
}
