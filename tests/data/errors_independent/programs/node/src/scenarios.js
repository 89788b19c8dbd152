'use strict';
// Scenario name -> the application function a request, job or command ends up in.
const cart = require('./cart');
const users = require('./users');
const sessions = require('./sessions');
const config = require('./config');
const webhook = require('./webhook');
const signup = require('./signup');
const inventoryClient = require('./inventoryClient');
const quotes = require('./quotes');
const tree = require('./tree');
const menu = require('./menu');
const invoices = require('./invoices');
const receipts = require('./receipts');
const pricing = require('./pricing');
const { PaymentService } = require('./payments');
const queue = require('./queue');
const links = require('./links');
// @release-insert

const payments = new PaymentService('psp-eu-1');

const SCENARIOS = {
  'cart.summarize': (a) => cart.checkoutSummary(a.items, a.pageSize),
  'users.get': (a) => users.profile(a.userId),
  'sessions.owner': (a) => sessions.loadOwner(a.sessionId, a.userId),
  'sessions.save': (a) => sessions.saveSession(a.sessionId, a.shard),
  'config.load': (a) => config.load(a.text),
  'webhook.receive': (a) => webhook.receive(a.raw),
  'signup.create': (a) => signup.createAccount(a.username, a.email),
  'inventory.stock': (a) => inventoryClient.stockLevel(a.sku, a.status, a.requestId),
  'quotes.fetch': (a) => quotes.refresh(a.symbol, a.timeoutMs),
  'tree.count': (a) => tree.countLeaves(a.depth),
  'menu.render': (a) => menu.renderMenu(a.depth, a.widget),
  'invoices.format': (a) => invoices.renderInvoice(a.invoiceId, a.amount),
  'receipts.format': (a) => receipts.renderReceipt(a.receiptId, a.amount),
  'pricing.tax': (a) => pricing.quote(a.lines),
  'payments.charge': (a) => payments.charge(a.orderId, a.last4, a.cents),
  'payments.refund': (a) => payments.refund(a.orderId, a.last4, a.cents),
  'queue.consume': (a) => queue.consume(a.type, a.producer),
  'links.normalize': (a) => links.canonical(a.url),
};

function run(name, args) {
  return SCENARIOS[name](args);
}

module.exports = { run };
