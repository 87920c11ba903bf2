#!/usr/bin/python3
"""Bootstraps one libtorrent 2.0.x DHT node through a bootstrap server on loopback, for
test/interop/libtorrent-bootstrap.test.ts. Run with Debian's /usr/bin/python3 (python3-libtorrent).

usage: libtorrent_bootstrap.py SERVER_PORT MIN_NODES TIMEOUT_S
The only contact libtorrent gets is 127.0.0.1:SERVER_PORT (dht_bootstrap_nodes). Prints JSON lines:
{"event": "started", "port": ..} then {"event": "result", "nodes": N, "seconds": S} where N is the size of
libtorrent's routing table when it reached MIN_NODES or the timeout passed. Exits 0 either way (the test judges).
"""

import json
import sys
import time

try:
    import libtorrent as lt
except ImportError as error:
    print(json.dumps({"event": "import_error", "error": str(error)}), flush=True)
    sys.exit(3)


def routing_table_size(ses):
    ses.post_dht_stats()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        ses.wait_for_alert(200)
        for a in ses.pop_alerts():
            if isinstance(a, lt.dht_stats_alert):
                return sum(b["num_nodes"] for b in a.routing_table)
    return -1


def main():
    server_port, min_nodes, timeout_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        # Loopback network: no IP restrictions, generous rate limits (facts measured with 2.0.8).
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_block_ratelimit": 100000,
        "dht_upload_rate_limit": 10_000_000,
        "dht_bootstrap_nodes": f"127.0.0.1:{server_port}",
        "alert_mask": lt.alert.category_t.dht_notification | lt.alert.category_t.status_notification,
    }
    ses = lt.session(settings)
    print(json.dumps({"event": "started", "port": ses.listen_port()}), flush=True)
    started = time.monotonic()
    nodes = -1
    while time.monotonic() - started < timeout_s:
        nodes = routing_table_size(ses)
        if nodes >= min_nodes:
            break
        time.sleep(0.3)
    print(json.dumps({"event": "result", "nodes": nodes, "seconds": round(time.monotonic() - started, 2)}), flush=True)


if __name__ == "__main__":
    main()
