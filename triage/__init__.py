"""The ACU queue: who acts on the alerts.

``store`` (a package: core, alerts, suppressions, accounts, audit) keeps alerts, decisions,
accounts, suppressions and the keyed hash-chained audit log (SQLAlchemy; SQLite embedded,
PostgreSQL in production; schema by the Alembic migrations in ``migrations/``);
``checkpoints`` signs the chain's head outside the database; ``app`` publishes the JSON API
(``/api``, OpenAPI at ``/openapi.json`` for logged-in callers) and the server-rendered
pages behind ``guard`` (body limit, request origin); ``auth`` checks every request's role
(session cookies are revocable server-side; API tokens are ``full`` or ``metrics``-only);
``throttle`` slows failing logins; ``present`` masks people; ``investigate`` serves the
officer timeline (``timeline``), cases, the referral pack, the chain export and search;
``load`` fills a (shadow) store from a replay's alerts. docs/security.md has the threat
model.

Conflict of interest, kept simple on purpose:

* an alert is about the ACU when its officer is in ``settings.triage.acu_staff_ids`` or its
  unit (the alert's ``officer_unit``, from staff reference data; else ``facts.officer_unit``)
  is in ``settings.triage.acu_units``; it is flagged ``restricted`` at upsert and the rule is
  applied again at query time, so a later change to the settings takes effect at once. Only
  the ``reviewer`` role (the outside reviewer) sees those, and nothing else;
* each account carries its own ``staff_id``, ``line_manager`` and declared ``associates``;
  alerts about any of them, as officer or among the alert's people (subjects, path nodes,
  evidence: ``alerts.people``), are hidden from that account; the head of unit sees them
  but may not work them, and nobody sees an alert about themselves. The rule is one SQL
  clause (``StoreCore._visible``) applied to every alert query, so counts, pages, the
  officer's other alerts and the suppressions list cannot leak a hidden alert;
* an alert is assigned only to someone allowed to see and work it.

For the rest of the system:

* the alerts-topic sink calls ``Store.upsert_alerts(batch)`` (one transaction, idempotent
  by alert id, never touching triage state) and commits its offsets after it returns; an
  alert beyond the schema's limits raises ``InvalidAlert`` (dead-letter it);
* the worker drops a finding when ``triage.suppressions.is_suppressed(suppressions,
  finding, at)`` says so, the list coming from ``Store.active_suppressions``; the ready-made
  ``SuppressionCache(store.active_suppressions).check(finding)`` reloads it every 5 s;
* the audit publisher calls ``triage.publish.audit_batch(store, after_seq)`` and sends the
  records to the activity topic (key = actor staff id), remembering ``last_seq``.
"""
