#!/usr/bin/python3
"""The lab Internet's DHT: N libtorrent 2.0.x sessions in one process, each on its own public-looking address.

Run inside the lab's Internet namespace with Debian's /usr/bin/python3 (python3-libtorrent):
    libtorrent_internet.py <ip:port> [<ip:port> ...]
Every session runs the DHT only (no LSD, UPnP, NAT-PMP, uTP, peers) on its address, with the per-IP routing and
search restrictions off (the lab's nodes sit in one /15) and the rate limits raised (a lab has few nodes and many
queries). Each session is told about every other, then the script waits until each one knows most of the others
and prints one JSON line:
    {"event":"ready","nodes":["ip:port",..],"tableSizes":[..],"version":".."}
(The lab learns each node's id by pinging it: libtorrent binds its id to the address it listens on, BEP 42.)
After that it prints {"event":"stats","tableSizes":[..]} every 10 s and runs until stdin closes or SIGTERM.

Why one process: a libtorrent session is a few threads and a few MB; N processes on a 2-core machine shared by
many tests would cost more than the DHT itself.
"""

import json
import signal
import sys
import threading
import time

try:
    import libtorrent as lt
except ImportError as error:  # the lab skips with this reason
    print(json.dumps({"event": "import_error", "error": str(error)}), flush=True)
    sys.exit(3)

READY_WAIT_S = 30
STATS_INTERVAL_S = 10


def settings_for(address):
    return {
        "listen_interfaces": address,
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_block_ratelimit": 100000,
        "dht_upload_rate_limit": 10_000_000,
        "alert_mask": lt.alert.category_t.dht_notification | lt.alert.category_t.error_notification,
    }


def table_size(ses, timeout_s=2):
    ses.post_dht_stats()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.dht_stats_alert):
                return sum(b["num_nodes"] for b in a.routing_table)
    return -1


def main():
    addresses = sys.argv[1:]
    sessions = [lt.session(settings_for(a)) for a in addresses]
    hosts = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in addresses]
    deadline = time.monotonic() + 5
    while not all(s.is_dht_running() for s in sessions) and time.monotonic() < deadline:
        time.sleep(0.05)
    for i, ses in enumerate(sessions):
        for j, other in enumerate(hosts):
            if i != j:
                ses.add_dht_node(other)
    want = min(len(sessions) - 1, 8)
    deadline = time.monotonic() + READY_WAIT_S
    sizes = [table_size(s) for s in sessions]
    while min(sizes) < want and time.monotonic() < deadline:
        time.sleep(0.5)
        sizes = [table_size(s) for s in sessions]
    print(json.dumps({"event": "ready", "nodes": addresses, "tableSizes": sizes, "version": lt.__version__}), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    next_stats = time.monotonic() + STATS_INTERVAL_S
    while not stop.is_set():
        stop.wait(1)
        # Alerts pile up in each session until popped: drain them so memory stays flat however long we run.
        for s in sessions:
            s.pop_alerts()
        if time.monotonic() >= next_stats:
            next_stats += STATS_INTERVAL_S
            print(json.dumps({"event": "stats", "tableSizes": [table_size(s, 1) for s in sessions]}), flush=True)
    for s in sessions:
        s.pause()


if __name__ == "__main__":
    main()
