"""An unmodified roslibpy 2.x client of the Telekit rosbridge endpoint, driven by roslibpy.test.ts.

Publishes /cmd_vel, lists topics through rosapi, calls a service that does not exist, then
subscribes to /odom and reports the first message; each result is one JSON line on stdout.
"""

import json
import sys
import time

import roslibpy

ros = roslibpy.Ros(host=sys.argv[1])
ros.run(timeout=60)


def say(**kw):
    print(json.dumps(kw), flush=True)


roslibpy.Topic(ros, "/cmd_vel", "geometry_msgs/Twist").publish(
    roslibpy.Message({"linear": {"x": 0.7, "y": 0, "z": 0}, "angular": {"x": 0, "y": 0, "z": 0}})
)
topics = roslibpy.Service(ros, "/rosapi/topics", "rosapi/Topics").call(roslibpy.ServiceRequest(), timeout=60)
say(topics=topics["topics"])
try:
    roslibpy.Service(ros, "/no/such/service", "std_srvs/Empty").call(roslibpy.ServiceRequest(), timeout=60)
    say(failed=None)
except Exception as error:  # roslibpy raises on result: false
    say(failed=str(error))

got = []
roslibpy.Topic(ros, "/odom", "nav_msgs/Odometry").subscribe(lambda m: got.append(m["pose"]["pose"]["position"]["x"]))
say(ready=True)
while not got:
    time.sleep(0.01)
say(odom=got[0])
ros.terminate()
