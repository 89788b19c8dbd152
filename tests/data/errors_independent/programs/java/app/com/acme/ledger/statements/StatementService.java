package com.acme.ledger.statements;

import java.util.ArrayList;
import java.util.List;

/** Statement lines. */
public class StatementService {
    // @release-insert
    public Object lineAt(int lines, int index) {
        List<String> statement = new ArrayList<>();
        for (int i = 0; i < lines; i++) statement.add("line " + i);
        return statement.get(index);
    }
}
