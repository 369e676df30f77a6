"""The exchange: intake of packages, their storage, delivery, acknowledgement and receipts."""
