"""The reference: the Foxglove SDK's own server (PyPI `foxglove-sdk`), serving one channel the way
the Telekit endpoint serves `/telemetry/pose`: JSON with the same JSON Schema, one message every
20 ms. Prints the port it listens on, then runs until stdin closes."""

import json
import sys
import threading
import time

import foxglove
from foxglove import Capability, Schema

schema = sys.stdin.readline().encode()
server = foxglove.start_server(
    name="reference",
    host="127.0.0.1",
    port=0,
    capabilities=[Capability.ClientPublish],
    supported_encodings=["json"],
)
channel = foxglove.Channel(
    "/telemetry/pose",
    message_encoding="json",
    schema=Schema(name="/telemetry/pose", encoding="jsonschema", data=schema),
)
print(server.port, flush=True)

stop = threading.Event()


def publish() -> None:
    seq = 0
    while not stop.is_set():
        channel.log(
            {
                "header": {"seq": seq, "stamp": time.time() * 1000, "sender": "robot"},
                "frame": "world",
                "position": {"x": seq / 100, "y": 0, "z": 0},
                "orientation": {"x": 0, "y": 0, "z": 0, "w": 1},
            }
        )
        seq += 1
        time.sleep(0.02)


threading.Thread(target=publish, daemon=True).start()
sys.stdin.read()
stop.set()
server.stop()
