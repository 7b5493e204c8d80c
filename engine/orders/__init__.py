"""The order-time half of credit management: what a customer's exposure is, category by
category, when a sales order arrives."""
