#!/usr/bin/python3
"""Drives one libtorrent 2.0.x DHT node for the interop tests, over JSON lines on stdin/stdout.

Run with Debian's /usr/bin/python3 (python3-libtorrent). Every request is one JSON object with "id" and "cmd";
every reply is one JSON line {"id": .., "ok": true, ...} or {"id": .., "ok": false, "error": ".."}. Commands
that wait for the DHT (get_peers, put_*, get_*) block until they have a result or their "timeout_ms" passes,
draining libtorrent's alerts meanwhile. The script exits when stdin closes.

Commands:
  start         {"port"?: int, "settings"?: {...}}          -> {"port", "dht_running"}
  add_node      {"host", "port"}                            -> {}
  status        {}                                          -> {"nodes": routing-table size}
  add_torrent   {"info_hash"}                               -> {}  (libtorrent then announces it by itself)
  announce      {"info_hash"}                               -> {}  (force_dht_announce on the added torrent)
  get_peers     {"info_hash", "want"?: "ip:port", "timeout_ms"} -> {"peers": ["ip:port", ..]}
  put_immutable {"value": str}                              -> {"target", "stored"}
  get_immutable {"target", "timeout_ms"}                    -> {"found", "value"?}
  put_mutable   {"seed": hex32, "public_key": hex32, "value": str, "salt"?: str} -> {"target"?, "stored", "seq"}
  get_mutable   {"public_key": hex32, "salt"?: str, "timeout_ms", "min_seq"?: int} -> {"found", "value"?, "seq"?}
  alerts        {}                                          -> {"alerts": [recent dht alert messages]}

Facts measured with libtorrent 2.0.8 on loopback (see the issue): DHT runs on a local socket only when
listen_interfaces names an explicit IP; routing/search IP restrictions must be off; the per-IP rate ban and
the upload rate limit must be raised; session.dht_announce() raises in 2.0.8, so announces go through a torrent.
dht_put_mutable_item wants the 64-byte expanded ed25519 secret (SHA-512(seed), clamped) and the public key.
"""

import binascii
import hashlib
import json
import sys
import tempfile
import time

try:
    import libtorrent as lt
except ImportError as error:  # the test skips with this reason
    print(json.dumps({"event": "import_error", "error": str(error)}), flush=True)
    sys.exit(3)

RECENT_ALERTS_MAX = 200


class Driver:
    def __init__(self):
        self.ses = None
        self.torrents = {}
        self.recent = []
        self.save_dir = tempfile.mkdtemp(prefix="lt-interop-")

    # --- alerts -------------------------------------------------------------------------------------------

    def drain(self, wait_ms=0):
        if self.ses is None:
            return []
        if wait_ms > 0:
            self.ses.wait_for_alert(wait_ms)
        alerts = self.ses.pop_alerts()
        for a in alerts:
            self.recent.append(f"{type(a).__name__}: {a.message()}")
        del self.recent[:-RECENT_ALERTS_MAX]
        return alerts

    def wait_for(self, timeout_ms, on_alert):
        """Calls on_alert for each alert until it returns a non-None value or the time runs out."""
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            for a in self.drain(50):
                result = on_alert(a)
                if result is not None:
                    return result
        return None

    # --- commands -----------------------------------------------------------------------------------------

    def start(self, req):
        port = int(req.get("port", 0))
        settings = {
            "listen_interfaces": f"127.0.0.1:{port}",
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
            "dht_announce_interval": 5,
            "alert_mask": lt.alert.category_t.dht_notification
            | lt.alert.category_t.dht_operation_notification
            | lt.alert.category_t.error_notification
            | lt.alert.category_t.status_notification,
        }
        settings.update(req.get("settings", {}))
        self.ses = lt.session(settings)
        listen_port = self.ses.listen_port()
        deadline = time.monotonic() + 5
        while not self.ses.is_dht_running() and time.monotonic() < deadline:
            self.drain(50)
        return {"port": listen_port, "dht_running": self.ses.is_dht_running()}

    def add_node(self, req):
        self.ses.add_dht_node((req["host"], int(req["port"])))
        return {}

    def status(self, _req):
        self.ses.post_dht_stats()
        def on_alert(a):
            if isinstance(a, lt.dht_stats_alert):
                return sum(b["num_nodes"] for b in a.routing_table)
            return None
        nodes = self.wait_for(2000, on_alert)
        return {"nodes": nodes if nodes is not None else -1}

    def add_torrent(self, req):
        info_hash = req["info_hash"]
        atp = lt.add_torrent_params()
        atp.info_hashes = lt.info_hash_t(lt.sha1_hash(binascii.unhexlify(info_hash)))
        atp.save_path = self.save_dir
        atp.name = info_hash
        self.torrents[info_hash] = self.ses.add_torrent(atp)
        return {}

    def announce(self, req):
        self.torrents[req["info_hash"]].force_dht_announce()
        return {}

    def get_peers(self, req):
        info_hash = lt.sha1_hash(binascii.unhexlify(req["info_hash"]))
        want = req.get("want")
        timeout_ms = int(req.get("timeout_ms", 10000))
        peers = set()
        deadline = time.monotonic() + timeout_ms / 1000
        # Each dht_get_peers is one lookup; repeat until the wanted peer shows up or time runs out.
        while time.monotonic() < deadline:
            self.ses.dht_get_peers(info_hash)
            lookup_end = min(deadline, time.monotonic() + 3)
            while time.monotonic() < lookup_end:
                for a in self.drain(50):
                    if isinstance(a, lt.dht_get_peers_reply_alert) and a.info_hash == info_hash:
                        for ip, port in a.peers():
                            peers.add(f"{ip}:{port}")
            if want is None and peers:
                break
            if want is not None and want in peers:
                break
        return {"peers": sorted(peers)}

    def put_immutable(self, req):
        target = self.ses.dht_put_immutable_item(req["value"])
        def on_alert(a):
            if isinstance(a, lt.dht_put_alert) and a.target == target:
                return a.num_success
            return None
        stored = self.wait_for(int(req.get("timeout_ms", 15000)), on_alert)
        return {"target": str(target), "stored": stored if stored is not None else 0}

    def get_immutable(self, req):
        target = lt.sha1_hash(binascii.unhexlify(req["target"]))
        self.ses.dht_get_immutable_item(target)
        def on_alert(a):
            if isinstance(a, lt.dht_immutable_item_alert) and a.target == target:
                return entry_value(a)
            return None
        item = self.wait_for(int(req.get("timeout_ms", 15000)), on_alert)
        if item is None:
            return {"found": False}
        return {"found": True, "value": as_text(item)}

    def put_mutable(self, req):
        seed = binascii.unhexlify(req["seed"])
        public_key = binascii.unhexlify(req["public_key"])
        salt = req.get("salt", "")
        self.ses.dht_put_mutable_item(expanded_secret(seed), public_key, req["value"].encode(), salt.encode())
        def on_alert(a):
            if isinstance(a, lt.dht_put_alert) and as_bytes(a.public_key) == public_key and a.salt == salt:
                return (a.num_success, a.seq)
            return None
        result = self.wait_for(int(req.get("timeout_ms", 15000)), on_alert)
        if result is None:
            return {"stored": 0, "seq": -1}
        return {"stored": result[0], "seq": result[1]}

    def get_mutable(self, req):
        public_key = binascii.unhexlify(req["public_key"])
        salt = req.get("salt", "")
        min_seq = int(req.get("min_seq", 0))
        timeout_ms = int(req.get("timeout_ms", 15000))
        best = None
        deadline = time.monotonic() + timeout_ms / 1000
        # Non-authoritative alerts arrive as soon as any node answers; wait for the lookup's final one.
        while time.monotonic() < deadline and (best is None or best[1] < min_seq):
            self.ses.dht_get_mutable_item(public_key, salt.encode())
            def on_alert(a):
                if isinstance(a, lt.dht_mutable_item_alert) and as_bytes(a.key) == public_key and a.salt == salt:
                    return a
                return None
            lookup_end = min(deadline, time.monotonic() + 5)
            while time.monotonic() < lookup_end:
                a = self.wait_for(max(1, int((lookup_end - time.monotonic()) * 1000)), on_alert)
                if a is None:
                    break
                item = entry_value(a)
                if item is not None and (best is None or a.seq > best[1]):
                    best = (item, a.seq)
                if a.authoritative:
                    break
        if best is None:
            return {"found": False}
        return {"found": True, "value": as_text(best[0]), "seq": best[1]}

    def alerts(self, _req):
        self.drain()
        return {"alerts": list(self.recent)}


def expanded_secret(seed):
    """The 64-byte ed25519 secret libtorrent signs with: SHA-512(seed) with the scalar clamped (RFC 8032 5.1.5)."""
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return bytes(h)


def entry_value(alert):
    """The item of an item alert, or None when libtorrent found none (reading an empty entry raises)."""
    try:
        item = alert.item
    except RuntimeError:
        return None
    # 2.0.8 hands immutable items back as {"key": target, "value": v}.
    if isinstance(item, dict) and "value" in item:
        return item["value"]
    return item


def as_bytes(raw):
    return raw if isinstance(raw, bytes) else raw.encode("latin1")


def hexlify(raw):
    return binascii.hexlify(raw if isinstance(raw, bytes) else raw.encode("latin1")).decode()


def as_text(item):
    """An entry holding a byte string comes back as bytes (or str); other values are shown as JSON."""
    if isinstance(item, bytes):
        return item.decode("utf-8", "replace")
    if isinstance(item, str):
        return item
    return json.dumps(item, default=lambda v: v.decode("latin1") if isinstance(v, bytes) else str(v))


def main():
    driver = Driver()
    commands = {
        "start": driver.start,
        "add_node": driver.add_node,
        "status": driver.status,
        "add_torrent": driver.add_torrent,
        "announce": driver.announce,
        "get_peers": driver.get_peers,
        "put_immutable": driver.put_immutable,
        "get_immutable": driver.get_immutable,
        "put_mutable": driver.put_mutable,
        "get_mutable": driver.get_mutable,
        "alerts": driver.alerts,
    }
    print(json.dumps({"event": "ready", "version": lt.__version__}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            handler = commands.get(req.get("cmd"))
            if handler is None:
                raise ValueError(f"unknown command {req.get('cmd')!r}")
            reply = {"id": req_id, "ok": True}
            reply.update(handler(req))
        except Exception as error:  # reported to the test as a failed command, never a crash
            reply = {"id": req_id, "ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)
        driver.drain()


if __name__ == "__main__":
    main()
