"""The ACU queue: who acts on the alerts.

``store`` keeps alerts, decisions, accounts, suppressions and the hash-chained audit log
(SQLAlchemy; SQLite embedded, PostgreSQL in production); ``service`` holds the rules an
analyst's action goes through (visibility, workflow, pseudonyms, audit); ``app`` publishes
them as a JSON API and server-rendered pages.
"""
