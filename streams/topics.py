"""Topic names, keys and creation. Activity is keyed by actor so one officer's state lives on
one partition; reference events by the entity id the contract names."""

from __future__ import annotations

import logging
import time

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

from probity.settings import Settings
from probity.transport import kafka_client_config
from streams.exceptions import BrokerError

log = logging.getLogger(__name__)


def officer_changelog(settings: Settings) -> str:
    """The workers' officer-state changelog: compacted, keyed by officer, one partition per
    activity partition (an officer's state is written on its activity partition number)."""
    return f"{settings.app_id}-officer-state-changelog"


def agents_group(settings: Settings) -> str:
    """The consumer group of the agents the worker's faust app hosts (the graph agent); the
    event topics are consumed in the group ``app_id`` by the worker's own consumer."""
    return f"{settings.app_id}-agents"


#: per-topic configuration of the topics that need one
COMPACTED = {"cleanup.policy": "compact"}


def topic_specs(settings: Settings) -> dict[str, int]:
    """Every topic Probity writes or reads, with its partition count."""
    t = settings.topics
    return {
        t.activity: settings.partitions,
        t.reference: settings.partitions,
        t.dead_letters: settings.partitions,
        t.alerts: settings.partitions,
        # one partition: one graph agent in the group holds the whole graph
        t.edges: 1,
        t.audit_checkpoints: 1,
        officer_changelog(settings): settings.partitions,
    }


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Topic configurations beyond the broker's defaults (set when a topic is created)."""
    return {
        officer_changelog(settings): COMPACTED,
        # the graph agent rebuilds the graph from the whole edges topic: never delete by time
        settings.topics.edges: {"retention.ms": "-1"},
        # verify compares the database with the latest checkpoint: keep every one
        settings.topics.audit_checkpoints: {"retention.ms": "-1"},
    }


def ensure_topics(settings: Settings, bootstrap: str, timeout_s: float = 20.0) -> None:
    """Create missing topics with the configured partitions; existing ones are left alone."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(
                **kafka_client_config(settings, "kafka-python", bootstrap=bootstrap),
                client_id="probity-admin",
            )
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise BrokerError(f"cannot reach the broker at {bootstrap}: {exc}") from exc
            time.sleep(0.2)
    try:
        configs = topic_configs(settings)
        for name, partitions in topic_specs(settings).items():
            try:
                admin.create_topics(
                    [NewTopic(name, partitions, settings.replication_factor,
                              topic_configs=configs.get(name, {}))],
                    timeout_ms=10_000,
                )  # fmt: skip
                log.info("topic created", extra={"topic": name, "partitions": partitions})
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()


def partition_for(key: str, partitions: int) -> int:
    """The partition the default Kafka partitioner (murmur2) gives ``key``: the same in
    kafka-python, aiokafka and the Java client, so producers and workers agree."""
    return int((murmur2(key.encode()) & 0x7FFFFFFF) % partitions)
