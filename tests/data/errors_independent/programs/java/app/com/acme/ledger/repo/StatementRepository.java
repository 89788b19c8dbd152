package com.acme.ledger.repo;

import java.sql.SQLException;

/** Statements table. */
public class StatementRepository {
    // @release-insert
    public Object findOwner(String accountId, String host) {
        try {
            return Jdbc.query(host, "SELECT * FROM accounts WHERE id = ?");
        } catch (SQLException e) {
            throw new DataAccessException("query failed for account " + accountId, e);
        }
    }
}
