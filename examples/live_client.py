"""Receive vp3d live's poses over UDP and print each frame's head height and latency.

    vp3d live 0 -o udp://127.0.0.1:9999        # in one terminal
    python examples/live_client.py 9999         # in another (Unity, Blender or a browser read the same JSON)
"""

import json
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
HEAD, ROOT = 10, 0  # Human3.6M-17 joint indices (vp3d.skeleton.H36M)
while True:
    frame = json.loads(sock.recv(65536))
    if frame["joints3d"] is None:  # nobody seen yet
        continue
    head_above_hips = -frame["joints3d"][HEAD][1]  # camera frame: y points down, metres from the root
    print(f"frame {frame['frame']:6d}  head {head_above_hips:+.2f} m above the hips  "
          f"{'detected' if frame['detected'] else 'held    '}  {frame['latency_ms']:.0f} ms")
