"""Loaded at start-up by server processes the tests launch (their PYTHONPATH names this folder).

Keeps WebRTC on loopback: aioice (aiortc's ICE) gathers host candidates on every interface, and a test
must use 127.0.0.1 only. This is test harness, not product code: production gathers on real interfaces.
"""

try:
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]
except ImportError:  # a process without aiortc has nothing to restrict
    pass
