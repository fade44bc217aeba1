"""What moves events: broker, topics, the faust worker, ingest, replay, metrics."""
