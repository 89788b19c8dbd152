package com.acme.ledger;

import com.acme.ledger.accounts.AccountService;
import com.acme.ledger.amounts.AmountParser;
import com.acme.ledger.batch.BatchService;
import com.acme.ledger.currency.CurrencyParser;
import com.acme.ledger.customers.CustomerService;
import com.acme.ledger.imports.ImportService;
import com.acme.ledger.reports.InterestCalculator;
import com.acme.ledger.reports.ReportService;
import com.acme.ledger.repo.AccountRepository;
import com.acme.ledger.repo.StatementRepository;
import com.acme.ledger.scheduler.Scheduler;
import com.acme.ledger.statements.StatementService;
import com.acme.ledger.transfers.TransferService;
import com.acme.ledger.tree.TreeSum;

/** Scenario name -> the application method a request, job or command ends up in. */
final class Scenarios {
    // @release-insert
    private Scenarios() {}

    static Object run(String name, String[] a) {
        switch (name) {
            case "accounts.deposit": return new AccountService().deposit(a[0], a[1]);
            case "accounts.withdraw": return new AccountService().withdraw(a[0], a[1]);
            case "transfers.transfer": return new TransferService().transfer(a[0], a[1], a[2]);
            case "amounts.parse": return AmountParser.parseCents(a[0]);
            case "repo.account": return new AccountRepository().findById(a[0], a[1]);
            case "repo.statement": return new StatementRepository().findOwner(a[0], a[1]);
            case "imports.json": return new ImportService().importBatch(a[0], a[1]);
            case "imports.sync": return new ImportService().syncRates(a[0], Integer.parseInt(a[1]));
            case "tree.sum": return TreeSum.total(Integer.parseInt(a[0]));
            case "reports.average": return new ReportService().averagePerAccount(a);
            case "reports.interest": return InterestCalculator.monthlyRate(Long.parseLong(a[0]), Integer.parseInt(a[1]));
            case "accounts.open": return new AccountService().open(a[0], a[1]);
            case "payments.submit": return new com.acme.ledger.payments.PaymentService().submit(a[0], a[1]);
            case "statements.line": return new StatementService().lineAt(Integer.parseInt(a[0]), Integer.parseInt(a[1]));
            case "batch.prune": return new BatchService().prune(Integer.parseInt(a[0]), Integer.parseInt(a[1]));
            case "scheduler.trigger": return new Scheduler().trigger(a[0]);
            case "customers.address": return new CustomerService().primaryAddress(a[0]);
            case "currency.parse": return CurrencyParser.parse(a[0], a[1]);
            default: throw new UnsupportedOperationException("no scenario " + name);
        }
    }
}
