#!/usr/bin/env python3
# A hostile ctl.sock client: connects, sends a request header announcing a
# large payload, then trickles one byte every half second for SECONDS.
# Usage: ctl-trickle.py SOCKET SECONDS
import socket
import struct
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
# struct ctl_header { u32 command; i32 arg; u32 flags; u32 length; }: CTL_UPDATE
s.sendall(struct.pack("=IiII", 8, 0, 0, 1 << 20))
print("connected", flush=True)
end = time.monotonic() + seconds
try:
    while time.monotonic() < end:
        s.send(b"{")
        time.sleep(0.5)
except OSError:
    pass
