"""Reads emostream's emotion events from Kafka (pip install kafka-python) and prints them.

    KAFKA_BROKERS=127.0.0.1:9092 python3 docs/examples/consume_events.py [camera-id]

Every event follows docs/contract/emotion-event.schema.json. Delivery is at least once: an event
whose eventId was seen already is dropped here.
"""
import json
import os
import sys

from kafka import KafkaConsumer  # kafka-python

brokers = os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092").split(",")
topic = os.environ.get("EMOSTREAM_TOPIC_PREFIX", "") + "emotion-events"
only_camera = sys.argv[1] if len(sys.argv) > 1 else None

consumer = KafkaConsumer(
    topic,
    bootstrap_servers=brokers,
    group_id=None,  # no committed position: start at the newest event
    isolation_level="read_committed",  # the aggregator writes its events in transactions
    value_deserializer=lambda v: json.loads(v.decode("utf-8")),
)
seen = set()
for message in consumer:
    event = message.value
    if event.get("schemaVersion") != 1:
        print(f"skipped an event of schema version {event.get('schemaVersion')}", file=sys.stderr)
        continue
    if only_camera and event["cameraId"] != only_camera:
        continue
    if event.get("eventId") in seen:
        continue
    seen.add(event.get("eventId"))
    returning = " (returning)" if event.get("returning") else ""
    print(f"{event['at']} {event['cameraId']} {event['personId']}{returning} {event['type']}: "
          f"{event['emotion']} ({event['confidence']:.2f})")
