package com.acme.ledger.repo;

import java.sql.SQLException;

/** Accounts table. */
public class AccountRepository {
    // @release-insert
    public Object findById(String accountId, String host) {
        try {
            return Jdbc.query(host, "SELECT * FROM accounts WHERE id = ?");
        } catch (SQLException e) {
            throw new DataAccessException("query failed for account " + accountId, e);
        }
    }
}
