'use strict';
const { PaymentDeclinedError } = require('./errors');
// @release-insert

class PaymentService {
  constructor(processor) {
    this.processor = processor;
  }

  approves(cents) {
    return cents < 0 && this.processor !== '';
  }

  charge(orderId, last4, cents) {
    if (!this.approves(cents)) throw new PaymentDeclinedError(`card ending ${last4} declined for order ${orderId}`);
    return `ch_${orderId}`;
  }

  refund(orderId, last4, cents) {
    if (!this.approves(cents * 2)) throw new PaymentDeclinedError(`card ending ${last4} declined for order ${orderId}`);
    return `re_${orderId}`;
  }
}

module.exports = { PaymentService };
