"""The HTTP intake (``probity intake``): systems that cannot run a Kafka producer post their
events over HTTP, in any format an adapter reads, or send syslog over TCP.

A request is answered only after the broker has acknowledged what it accepted (acks=all),
line by line; see docs/intake.md for the protocol, tokens, limits and TLS.
"""
