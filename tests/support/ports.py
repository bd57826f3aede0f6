"""Free loopback ports for the servers a test starts, never in the kernel's ephemeral range.

A port picked now is often bound much later (a sipp phone Asterisk reaches by a static
contact, the carrier simulator started by a later fixture). Had it come from the ephemeral
range (32768 and up), any socket opened meanwhile without a port - Asterisk opens some -
could be given that very port. So test ports come from below that range, each handed out
once per session, and RTP ranges from further below.
"""

from __future__ import annotations

import random
import socket

_TEST_PORTS = range(32000, 32768)  # single ports of tests
_RTP_PORTS = range(10000, 31900)  # runs of consecutive ports for RTP
_handed_out: set[tuple[int, int]] = set()
_rng = random.Random()


def _free(kind: int, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        if kind == socket.SOCK_STREAM:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pick(kind: int) -> int:
    for _ in range(2000):
        port = _rng.choice(_TEST_PORTS)
        if (kind, port) not in _handed_out and _free(kind, port):
            _handed_out.add((kind, port))
            return port
    raise RuntimeError("no free test port")


def free_tcp_port() -> int:
    return _pick(socket.SOCK_STREAM)


def free_udp_port() -> int:
    return _pick(socket.SOCK_DGRAM)


def free_sipp_media_port() -> int:
    """An RTP port for sipp, which binds it and the port two above (for video) and exits
    at once if either is taken: both are claimed."""
    for _ in range(2000):
        port = _rng.choice(_TEST_PORTS[:-2])
        claims = [(socket.SOCK_DGRAM, port), (socket.SOCK_DGRAM, port + 2)]
        if all(claim not in _handed_out and _free(*claim) for claim in claims):
            _handed_out.update(claims)
            return port
    raise RuntimeError("no free sipp media port")


def udp_port_bound(port: int) -> bool:
    """Whether some process has a UDP socket on this port (read from the kernel's table,
    since probing by binding could take the port from the very process being waited for)."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)  # the header
            if any(line.split()[1].endswith(wanted) for line in lines):
                return True
    return False


def free_sip_port() -> int:
    """A port for a SIP phone that also opens TCP on it and TLS on the next one (baresip)."""
    for _ in range(2000):
        port = _rng.choice(_TEST_PORTS[:-1])
        claims = [
            (socket.SOCK_DGRAM, port),
            (socket.SOCK_STREAM, port),
            (socket.SOCK_STREAM, port + 1),
        ]
        if all(claim not in _handed_out and _free(*claim) for claim in claims):
            _handed_out.update(claims)
            return port
    raise RuntimeError("no free SIP port")


def free_udp_range(size: int) -> tuple[int, int]:
    """A run of `size` consecutive UDP ports that are free right now (for RTP)."""
    for _ in range(200):
        start = _rng.randrange(_RTP_PORTS.start, _RTP_PORTS.stop - size, 2)
        if all(_free(socket.SOCK_DGRAM, port) for port in range(start, start + size)):
            return start, start + size - 1
    raise RuntimeError("no free UDP port range")
