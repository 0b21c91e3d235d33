"""A lossy, jittery link in user space, for `pnpm bench gateway.network` where the kernel has no
`sch_netem` (tc says "Specified qdisc kind is unknown"): two TUN devices, one in this network
namespace and one in the operator's, and this process between them doing what netem does — a delay
with jitter each way (order kept, as netem with a pfifo child), random loss or Gilbert-Elliott
burst loss, each direction on its own.

usage: netem.py NS HOST_IF PEER_IF HOST_ADDR PEER_ADDR DELAY_MS JITTER_MS LOSS
  LOSS: "0", "3" (per cent, independent), or "ge:P,R,LOSS_BAD,LOSS_GOOD" (per cent: the chance to go
  from good to bad, from bad to good, and the loss in each state, as netem's `loss gemodel`).
Prints "ready" once the link is up; runs until its standard input closes; then removes the link.
"""

import fcntl
import heapq
import os
import random
import select
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def ip(*args):
    subprocess.run(["ip", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class Loss:
    def __init__(self, spec):
        self.bad = False
        if spec.startswith("ge:"):
            p, r, lb, lg = (float(x) / 100 for x in spec[3:].split(","))
            self.ge = (p, r, lb, lg)
            self.rate = None
        else:
            self.ge = None
            self.rate = float(spec) / 100

    def lost(self):
        if self.ge is None:
            return random.random() < self.rate
        p, r, lb, lg = self.ge
        self.bad = (random.random() >= r) if self.bad else (random.random() < p)
        return random.random() < (lb if self.bad else lg)


def main():
    ns, host_if, peer_if, host_addr, peer_addr, delay, jitter, loss = sys.argv[1:9]
    delay, jitter = float(delay) / 1000, float(jitter) / 1000
    for cmd in (["netns", "del", ns], ["link", "del", host_if]):
        subprocess.run(["ip", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    a = tun(host_if)
    b = tun(peer_if)
    try:
        ip("netns", "add", ns)
        ip("link", "set", peer_if, "netns", ns)
        ip("addr", "add", host_addr, "peer", peer_addr, "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("netns", "exec", ns, "ip", "addr", "add", peer_addr, "peer", host_addr, "dev", peer_if)
        ip("netns", "exec", ns, "ip", "link", "set", peer_if, "up")
        ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        # Each direction: its loss process, and the time its last packet leaves (order is kept).
        ways = {a: [b, Loss(loss), 0.0], b: [a, Loss(loss), 0.0]}
        queue = []
        n = 0
        print("ready", flush=True)
        while True:
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, out, packet = heapq.heappop(queue)
                try:
                    os.write(out, packet)
                except OSError:
                    pass
            timeout = max(0.0, queue[0][0] - now) if queue else 0.5
            ready, _, _ = select.select([a, b, sys.stdin], [], [], timeout)
            if sys.stdin in ready and not sys.stdin.readline():
                return
            for fd in ready:
                if fd is sys.stdin:
                    continue
                way = ways[fd]
                for _ in range(64):
                    try:
                        packet = os.read(fd, 65536)
                    except BlockingIOError:
                        break
                    if way[1].lost():
                        continue
                    at = max(time.monotonic() + delay + random.uniform(-jitter, jitter), way[2])
                    way[2] = at
                    n += 1
                    heapq.heappush(queue, (at, n, way[0], packet))
    finally:
        subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", host_if], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
