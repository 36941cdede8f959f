"""Mail to fans: a transactional outbox, its templates, and the worker job that sends it.

The causes (an order paid, a refund, a lottery result) write an `outbox` row in their
own transaction (`mail.outbox.enqueue`); `mail.sender.mail_sender` delivers it over
SMTP. This part imports only the core: purchase and lottery call down into it.
"""
