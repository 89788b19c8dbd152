package com.acme.ledger.currency;

/** Supported settlement currencies. */
public enum Currency { EUR, USD, GBP, CHF }
