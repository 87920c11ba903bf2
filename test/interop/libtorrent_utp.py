#!/usr/bin/python3
"""libtorrent side of test/interop/libtorrent-utp.test.ts (uTP only: TCP, DHT, LSD, UPnP, NAT-PMP off).

Usage:
  libtorrent_utp.py seed             create a few MiB of files and a v1 torrent in a temp dir, seed it over uTP
  libtorrent_utp.py connect PORT     add a torrent (no data) and connect_peer to 127.0.0.1:PORT over uTP; the
                                     "ready" line names the files holding the data, so the peer can serve it,
                                     and {"event": "finished"} follows once libtorrent has downloaded and checked it

Prints JSON lines on stdout: first {"event": "ready", ...} with the port, info-hash and piece hashes, then
alerts worth seeing ({"event": "alert", ...}). Runs until stdin closes (the test ends) or 120 s pass.
"""
import json
import os
import select
import shutil
import sys
import tempfile
import time

import libtorrent as lt


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def make_session():
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_outgoing_tcp": False,
        "enable_incoming_tcp": False,
        "enable_outgoing_utp": True,
        "enable_incoming_utp": True,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "in_enc_policy": int(lt.enc_policy.disabled),
        "out_enc_policy": int(lt.enc_policy.disabled),
        "allow_multiple_connections_per_ip": True,
        "alert_mask": int(lt.alert.category_t.error_notification | lt.alert.category_t.peer_notification
                          | lt.alert.category_t.connect_notification | lt.alert.category_t.status_notification),
    }
    return lt.session(settings)


def make_torrent(directory, total_bytes, piece_bytes):
    data_dir = os.path.join(directory, "payload")
    os.makedirs(data_dir)
    # Two files so a piece spans a file boundary; sizes not multiples of the piece size (short last piece).
    sizes = [total_bytes // 3 + 12345, total_bytes - (total_bytes // 3 + 12345)]
    for i, size in enumerate(sizes):
        with open(os.path.join(data_dir, f"part{i}.bin"), "wb") as f:
            f.write(os.urandom(size))
    fs = lt.file_storage()
    lt.add_files(fs, data_dir)
    ct = lt.create_torrent(fs, piece_bytes, flags=lt.create_torrent.v1_only)
    ct.set_creator("dhtchat interop")
    lt.set_piece_hashes(ct, directory)
    info = lt.torrent_info(lt.bencode(ct.generate()))
    return info


def wait_for(ses, handle, predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate(handle.status()):
            return True
        drain_alerts(ses)
        time.sleep(0.05)
    return False


def drain_alerts(ses):
    for a in ses.pop_alerts():
        emit({"event": "alert", "type": type(a).__name__, "message": a.message()})


def stdin_closed(timeout):
    ready, _, _ = select.select([sys.stdin], [], [], timeout)
    return bool(ready) and sys.stdin.read(1) == ""


def main():
    mode = sys.argv[1]
    directory = tempfile.mkdtemp(prefix="dhtchat-lt-")
    try:
        return run(mode, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run(mode, directory):
    ses = make_session()
    info = make_torrent(directory, 3 * 1024 * 1024 + 54321, 256 * 1024)
    if mode == "seed":
        handle = ses.add_torrent({"ti": info, "save_path": directory})
        if not wait_for(ses, handle, lambda s: s.is_seeding, 30):
            emit({"event": "error", "message": "torrent never reached seeding"})
            return 1
    else:
        empty = os.path.join(directory, "empty")
        os.makedirs(empty)
        handle = ses.add_torrent({"ti": info, "save_path": empty})
    files = info.files()
    emit({
        "event": "ready",
        "port": ses.listen_port(),
        "info_hash": str(info.info_hashes().v1),
        "piece_length": info.piece_length(),
        "total_size": info.total_size(),
        "piece_hashes": [info.hash_for_piece(i).hex() for i in range(info.num_pieces())],
        "files": [os.path.join(directory, files.file_path(i)) for i in range(files.num_files())],
    })
    if mode == "connect":
        handle.connect_peer(("127.0.0.1", int(sys.argv[2])))
    deadline = time.time() + 120
    is_finished = False
    while time.time() < deadline:
        drain_alerts(ses)
        if mode == "connect" and not is_finished and handle.status().is_seeding:
            is_finished = True
            emit({"event": "finished"})
        if stdin_closed(0.1):
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
