"""Free loopback ports for the servers a test starts."""

from __future__ import annotations

import random
import socket


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_udp_range(size: int) -> tuple[int, int]:
    """A run of `size` consecutive UDP ports that are free right now (for RTP).

    Taken below the kernel's ephemeral range (32768 and up), where every other port of a
    test comes from (sipp, baresip, SIP): a phone must never find its port taken by RTP.
    """
    rng = random.Random()
    for _ in range(200):
        start = rng.randrange(10000, 32000 - size, 2)
        if all(_udp_free(port) for port in range(start, start + size)):
            return start, start + size - 1
    raise RuntimeError("no free UDP port range")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
