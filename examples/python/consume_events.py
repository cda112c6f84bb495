"""Reads emostream's emotion events from Kafka and prints one line per event.

    pip install -r examples/python/requirements.txt        # kafka-python
    KAFKA_BROKERS=127.0.0.1:9092 python3 examples/python/consume_events.py [--from-beginning] [--count N] [camera-id]

Every event follows schemas/emotion-event.schema.json. Delivery is at least once: an event whose
eventId was seen already is dropped here. The topic is EMOSTREAM_TOPIC_PREFIX + "emotion-events".

  --from-beginning  start at the oldest event the broker keeps (default: only new events)
  --count N         exit after printing N events (duplicates and other cameras' events do not count)
  camera-id         print only this camera's events
"""
import argparse
import json
import os
import sys

from kafka import KafkaConsumer  # kafka-python


def event_line(event):
    """One event as a line of text: time, camera, person, type, emotion and confidence."""
    returning = " (returning)" if event.get("returning") else ""
    return (f"{event['at']} {event['cameraId']} {event['personId']}{returning} {event['type']}: "
            f"{event['emotion']} ({event['confidence']:.2f})")


def main():
    parser = argparse.ArgumentParser(description="Print emostream's emotion events.")
    parser.add_argument("camera", nargs="?", help="print only this camera's events")
    parser.add_argument("--from-beginning", action="store_true",
                        help="start at the oldest event the broker keeps (default: only new events)")
    parser.add_argument("--count", type=int, metavar="N",
                        help="exit after printing N events")
    args = parser.parse_args()
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")

    brokers = os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092").split(",")
    topic = os.environ.get("EMOSTREAM_TOPIC_PREFIX", "") + "emotion-events"
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=brokers,
        group_id=None,  # no committed position: where --from-beginning says
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        isolation_level="read_committed",  # the aggregator writes its events in transactions
    )
    seen = set()
    printed = 0
    try:
        for message in consumer:
            try:
                event = json.loads(message.value.decode("utf-8"))
            except (AttributeError, UnicodeDecodeError, ValueError) as e:
                print(f"skipped a value that is not JSON at offset {message.offset}: {e}", file=sys.stderr)
                continue
            if not isinstance(event, dict) or event.get("schemaVersion") != 1:
                version = event.get("schemaVersion") if isinstance(event, dict) else None
                print(f"skipped an event of schema version {version}", file=sys.stderr)
                continue
            if args.camera and event.get("cameraId") != args.camera:
                continue
            event_id = event.get("eventId")
            if event_id is not None:
                if event_id in seen:
                    continue
                seen.add(event_id)
            print(event_line(event), flush=True)
            printed += 1
            if args.count is not None and printed >= args.count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
