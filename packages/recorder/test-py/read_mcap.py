"""Reads a recording with the `mcap` package (PyPI), independently of @mcap/core: every channel
with its schema, every message decoded as JSON. Prints one JSON line: counts per topic, schema
names, encodings, the episode metadata, and the first message of each topic."""

import json
import sys

from mcap.reader import make_reader

with open(sys.argv[1], "rb") as f:
    reader = make_reader(f)
    summary = reader.get_summary()
    channels = {
        ch.topic: {
            "schema": summary.schemas[ch.schema_id].name,
            "schemaEncoding": summary.schemas[ch.schema_id].encoding,
            "messageEncoding": ch.message_encoding,
        }
        for ch in summary.channels.values()
    }
    counts: dict[str, int] = {}
    first: dict[str, object] = {}
    for schema, channel, message in reader.iter_messages():
        counts[channel.topic] = counts.get(channel.topic, 0) + 1
        decoded = json.loads(message.data)
        first.setdefault(channel.topic, decoded)
    metadata = {m.name: dict(m.metadata) for m in reader.iter_metadata()}
    print(json.dumps({"channels": channels, "counts": counts, "metadata": metadata, "first": first,
                      "chunks": summary.statistics.chunk_count if summary.statistics else None}))
