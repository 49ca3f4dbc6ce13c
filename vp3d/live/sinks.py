"""Where live mode's per-frame JSON goes (one object per line / datagram / message):

    "-"                    stdout
    "udp://HOST:PORT"      one UDP datagram per frame (fire and forget: a slow or absent listener never
                           holds the loop up)
    "ws://HOST:PORT"       a WebSocket server on HOST:PORT; every connected client gets every frame
    anything else          a file, one line per frame (written as frames come; removed if the run fails
                           before its first frame)
"""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import UserError


class SinkError(UserError):
    """An output address cannot be used (one-line message naming it)."""


def _host_port(address: str) -> tuple[str, int]:
    parts = urlsplit(address)
    if not parts.hostname or parts.port is None:
        raise SinkError(f"{address}: give the address as {parts.scheme}://HOST:PORT")
    return parts.hostname, parts.port


class LineSink:
    """stdout or a file: one JSON object per line, flushed per frame (a reader follows along)."""

    def __init__(self, target: str):
        self.name = target
        if target == "-":
            self._out, self._own = sys.stdout, False
        else:
            try:
                self._out, self._own = open(Path(target), "w", encoding="utf-8"), True
            except OSError as e:
                raise SinkError(f"{target}: cannot write here ({e.strerror or e})") from None

    def send(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._own:
            self._out.close()


class UdpSink:
    def __init__(self, address: str):
        self.name = address
        self._to = _host_port(address)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, line: str) -> None:
        try:
            self._sock.sendto(line.encode(), self._to)
        except OSError:  # nobody listening (ICMP refused) or a full buffer: the frame is gone, the loop goes on
            pass

    def close(self) -> None:
        self._sock.close()


class WebSocketSink:
    """A WebSocket server (the `websockets` library) that sends every frame to every connected client."""

    def __init__(self, address: str):
        from websockets.sync.server import serve
        self.name = address
        host, port = _host_port(address)
        self._clients: set = set()
        self._lock = threading.Lock()
        try:
            self._server = serve(self._client, host, port)
        except OSError as e:
            raise SinkError(f"{address}: cannot listen there ({e.strerror or e})") from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="vp3d-live-ws", daemon=True)
        self._thread.start()

    def _client(self, connection) -> None:
        with self._lock:
            self._clients.add(connection)
        try:
            connection.wait_closed()
        finally:
            with self._lock:
                self._clients.discard(connection)

    def send(self, line: str) -> None:
        with self._lock:
            clients = list(self._clients)
        for connection in clients:
            try:
                connection.send(line)
            except Exception:  # noqa: BLE001 - a client that went away; the others still get the frame
                pass

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def open_sink(target: str):
    """The sink for an --output value (see the module's docstring)."""
    scheme = urlsplit(target).scheme if "://" in target else ""
    if scheme == "udp":
        return UdpSink(target)
    if scheme in ("ws", "websocket"):
        return WebSocketSink(target)
    if scheme:
        raise SinkError(f"{target}: unknown output (use -, a file, udp://HOST:PORT or ws://HOST:PORT)")
    return LineSink(target)
