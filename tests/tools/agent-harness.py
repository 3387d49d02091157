#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Boots a runvm guest the way the host does and drives its agent over the
channel: a debugging tool for the guest side (not part of `make check`).

    tests/tools/agent-harness.py [--initrd build/guest/initrd.img]
        [--kernel /boot/vmlinuz-...] [--debug] [--keep] [CASE...]

Needs root, qemu-system-x86_64, /usr/lib/qemu/virtiofsd and busybox-static
(for the container rootfs). Python 3 stdlib only.
"""

import argparse
import glob
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

REQUEST, RESPONSE, EVENT, DATA, CREDIT, EOF = 1, 2, 3, 4, 5, 6
HEADER = struct.Struct("<IIB")
INITIAL_CREDIT = 256 << 10
ROOTFS_GUEST = "/run/runvm/shared/rootfs"


def host_tsc_khz():
    """The host TSC frequency (tsc_early_khz); microvm under TCG needs it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":")[1]) * 1000)
    except OSError:
        pass
    return 2000000


def make_rootfs(path):
    os.makedirs(os.path.join(path, "bin"))
    for d in ("etc", "proc", "sys", "dev", "tmp", "root"):
        os.makedirs(os.path.join(path, d))
    shutil.copy("/bin/busybox", os.path.join(path, "bin/busybox"))
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for a in applets:
        if a != "busybox":
            os.symlink("busybox", os.path.join(path, "bin", a))
    with open(os.path.join(path, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(path, "etc/group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    with open(os.path.join(path, "bin/notexec"), "w") as f:
        f.write("#!/bin/sh\necho no\n")
    os.chmod(os.path.join(path, "bin/notexec"), 0o644)


def spec(args, env=None, terminal=False):
    """runc's default config with guest paths."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.1.0",
        "process": {
            "terminal": terminal,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps,
                             "ambient": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": ROOTFS_GUEST, "readonly": True},
        "hostname": "runvm",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


class Failure(Exception):
    pass


class Guest:
    def __init__(self, opts):
        self.opts = opts
        self.dir = tempfile.mkdtemp(prefix="runvm-harness.")
        self.shared = os.path.join(self.dir, "shared")
        os.makedirs(self.shared)
        make_rootfs(os.path.join(self.shared, "rootfs"))
        self.console = os.path.join(self.dir, "console.log")
        self.sock = None
        self.buf = b""
        self.next_id = 1
        self.next_stream = 1
        self.responses = {}
        self.events = []
        self.data = {}            # stream -> bytearray received
        self.eof = set()          # streams that got EOF
        self.send_credit = {}     # stream -> bytes we may still send (stdin)
        self.auto_grant = True
        self.ungranted = {}       # stream -> bytes consumed but not yet granted
        self.virtiofsd = self.qemu = None

    # --- VM --------------------------------------------------------------
    def boot(self):
        vfs_sock = os.path.join(self.dir, "vfs.sock")
        agent_sock = os.path.join(self.dir, "agent.sock")
        self.virtiofsd = subprocess.Popen(
            ["/usr/lib/qemu/virtiofsd", "--socket-path=" + vfs_sock, "-o", "source=" + self.shared,
             "-o", "cache=auto", "-o", "xattr"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "virtiofsd.log"), "w"))
        deadline = time.monotonic() + 30
        while not os.path.exists(vfs_sock):
            if time.monotonic() > deadline:
                raise Failure("virtiofsd did not create its socket")
            time.sleep(0.01)
        append = ("console=ttyS0 quiet panic=-1 tsc_early_khz=%d cryptomgr.notests no_timer_check "
                  "pci=off nokaslr lsm=capability" % host_tsc_khz())
        if self.opts.debug:
            append += " runvm.debug=1"
        cmd = ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on",
               "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "256M",
               "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
               "-machine", "memory-backend=mem", "-nodefaults", "-no-user-config", "-nographic",
               "-no-reboot", "-global", "virtio-mmio.force-legacy=false",
               "-kernel", self.opts.kernel, "-initrd", self.opts.initrd, "-append", append,
               "-serial", "file:" + self.console,
               "-device", "virtio-serial-device",
               "-chardev", "socket,id=agent,path=%s,server=on,wait=off" % agent_sock,
               "-device", "virtserialport,chardev=agent,name=runvm.agent",
               "-chardev", "socket,id=vfs,path=" + vfs_sock,
               "-device", "vhost-user-fs-device,chardev=vfs,queue-size=1024,tag=runvm",
               "-device", "virtio-rng-device"]
        self.t0 = time.monotonic()
        self.qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        while not os.path.exists(agent_sock):
            if self.qemu.poll() is not None or time.monotonic() > deadline:
                raise Failure("qemu did not create the agent socket")
            time.sleep(0.01)
        if self.opts.connect_delay:
            # The agent must wait for the host end without spinning or
            # giving up (a virtio-serial port reads EOF until then).
            time.sleep(self.opts.connect_delay)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(agent_sock)

    def close(self):
        for p in (self.qemu, self.virtiofsd):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if self.opts.keep:
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def console_tail(self, n=30):
        try:
            with open(self.console, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    # --- frames ------------------------------------------------------------
    def send_frame(self, stream, ftype, payload=b""):
        self.sock.sendall(HEADER.pack(len(payload), stream, ftype) + payload)

    def pump(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise Failure("agent channel closed")
        self.buf += chunk
        while len(self.buf) >= HEADER.size:
            length, stream, ftype = HEADER.unpack_from(self.buf)
            if len(self.buf) < HEADER.size + length:
                break
            payload = self.buf[HEADER.size:HEADER.size + length]
            self.buf = self.buf[HEADER.size + length:]
            self.on_frame(stream, ftype, payload)

    def on_frame(self, stream, ftype, payload):
        if ftype == RESPONSE:
            msg = json.loads(payload)
            self.responses[msg["id"]] = msg
        elif ftype == EVENT:
            self.events.append(json.loads(payload))
        elif ftype == DATA:
            self.data.setdefault(stream, bytearray()).extend(payload)
            self.ungranted[stream] = self.ungranted.get(stream, 0) + len(payload)
            if self.ungranted[stream] > INITIAL_CREDIT:
                raise Failure("stream %d: agent sent beyond its credit" % stream)
            if self.auto_grant:
                self.grant(stream)
        elif ftype == EOF:
            self.eof.add(stream)
        elif ftype == CREDIT:
            self.send_credit[stream] = self.send_credit.get(stream, 0) + struct.unpack("<I", payload)[0]
        else:
            raise Failure("unexpected frame type %d" % ftype)

    def grant(self, stream):
        n = self.ungranted.get(stream, 0)
        if n:
            self.send_frame(stream, CREDIT, struct.pack("<I", n))
            self.ungranted[stream] = 0

    def wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while not cond():
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("timed out waiting for " + what + "\n--- console ---\n" + self.console_tail())
            self.pump(min(left, 0.2))

    def call(self, method, params=None, timeout=60):
        rid = self.next_id
        self.next_id += 1
        self.send_frame(0, REQUEST, json.dumps({"id": rid, "method": method,
                                                "params": params or {}}).encode())
        self.wait(lambda: rid in self.responses, timeout, "the response to " + method)
        return self.responses.pop(rid)

    def streams(self, stdin=False):
        ids = {}
        for name in (("stdin",) if stdin else ()) + ("stdout", "stderr"):
            ids[name] = self.next_stream
            if name == "stdin":
                self.send_credit[self.next_stream] = INITIAL_CREDIT
            self.next_stream += 1
        return ids

    def send_stdin(self, stream, data, timeout=30):
        while data:
            self.wait(lambda: self.send_credit.get(stream, 0) > 0, timeout, "stdin credit")
            n = min(len(data), self.send_credit[stream], 64 << 10)
            self.send_frame(stream, DATA, data[:n])
            self.send_credit[stream] -= n
            data = data[n:]

    def exit_event(self, cid, timeout=60):
        def find():
            for e in self.events:
                if e.get("event") == "process_exited" and e["data"]["id"] == cid and "exec_id" not in e["data"]:
                    return e["data"]
            return None
        self.wait(lambda: find() is not None, timeout, "process_exited of " + cid)
        return find()


def expect(cond, what):
    if not cond:
        raise Failure(what)


# --- cases -------------------------------------------------------------------
def case_hello(g):
    r = g.call("hello", {"version": 1}, timeout=120)
    expect("result" in r and r["result"]["version"] == 1, "hello: %r" % r)
    print("  hello -> %s (%.2f s after qemu start)" % (json.dumps(r["result"]), time.monotonic() - g.t0))


def run(g, cid, args, stdin_data=None, timeout=60, **kw):
    ids = g.streams(stdin=stdin_data is not None)
    r = g.call("create_container", {"id": cid, "spec": spec(args, **kw), "stdio": ids})
    if "error" in r:
        return r, ids, None
    r2 = g.call("start_container", {"id": cid})
    expect("result" in r2, "start: %r" % r2)
    if stdin_data is not None:
        g.send_stdin(ids["stdin"], stdin_data)
        g.send_frame(ids["stdin"], EOF)
    ev = g.exit_event(cid, timeout)
    expect(ids["stdout"] in g.eof and ids["stderr"] in g.eof, "no EOF on stdout/stderr before exit")
    return r, ids, ev


def out(g, ids, name):
    return bytes(g.data.get(ids[name], b""))


def case_exit42(g):
    r, ids, ev = run(g, "c1", ["/bin/sh", "-c", "echo out; echo err >&2; exit 42"])
    expect("result" in r and r["result"]["pid"] > 1, "create: %r" % r)
    expect(out(g, ids, "stdout") == b"out\n", "stdout %r" % out(g, ids, "stdout"))
    expect(out(g, ids, "stderr") == b"err\n", "stderr %r" % out(g, ids, "stderr"))
    expect(ev.get("exit_code") == 42, "exit %r" % ev)
    print("  sh -c 'echo out; echo err >&2; exit 42' -> stdout %r stderr %r %s"
          % (out(g, ids, "stdout"), out(g, ids, "stderr"), json.dumps(ev)))


def case_missing(g):
    r, _, _ = run(g, "c2", ["nosuchcmd"])
    expect(r.get("error") == 'exec: "nosuchcmd": executable file not found in $PATH'
           and r.get("errno") == 2, "create: %r" % r)
    print("  missing executable -> %s" % json.dumps(r))
    r, _, _ = run(g, "c2b", ["/bin/notexec"])
    expect(r.get("error") == 'exec: "/bin/notexec": permission denied' and r.get("errno") == 13,
           "create: %r" % r)
    print("  non-executable -> %s" % json.dumps(r))
    r, _, _ = run(g, "c2c", ["/nonexistent"])
    expect("no such file or directory" in r.get("error", ""), "create: %r" % r)
    print("  missing path -> %s" % json.dumps(r))


def case_big(g):
    size = 10 << 20
    t = time.monotonic()
    # Grant late: the agent must stop at its credit and resume on CREDIT.
    g.auto_grant = False
    ids = g.streams()
    r = g.call("create_container", {"id": "c3", "spec": spec(["/bin/sh", "-c", "head -c %d /dev/zero" % size]),
                                    "stdio": ids})
    expect("result" in r, "create: %r" % r)
    expect("result" in g.call("start_container", {"id": "c3"}), "start")
    s = ids["stdout"]
    g.wait(lambda: len(g.data.get(s, b"")) >= INITIAL_CREDIT, 60, "the first window")
    time.sleep(0.5)
    g.pump(0.1)
    expect(len(g.data[s]) == INITIAL_CREDIT, "agent exceeded its credit: %d" % len(g.data[s]))
    g.auto_grant = True
    g.grant(s)
    ev = g.exit_event("c3", 300)
    got = out(g, ids, "stdout")
    expect(len(got) == size and got.count(0) == size, "got %d bytes" % len(got))
    expect(ev.get("exit_code") == 0, "exit %r" % ev)
    dt = time.monotonic() - t
    print("  10 MiB stdout with credit: %d bytes, %s, %.1f MiB/s" % (len(got), json.dumps(ev), size / dt / 2**20))


def case_stdin(g):
    data = b"x" * (4 << 20) + b"end\n"
    r, ids, ev = run(g, "c4", ["/bin/sh", "-c", "wc -c"], stdin_data=data)
    expect("result" in r, "create: %r" % r)
    expect(out(g, ids, "stdout").strip() == str(len(data)).encode(), "wc %r" % out(g, ids, "stdout"))
    print("  stdin %d bytes through wc -c -> %r %s" % (len(data), out(g, ids, "stdout"), json.dumps(ev)))


def case_env(g):
    r, ids, ev = run(g, "c5", ["/bin/sh", "-c",
                               "echo $HOME $(hostname) $(id -u); cat /proc/self/status | grep -E '^(CapEff|NoNewPrivs)'; "
                               "touch /x 2>&1; ulimit -n; ls /dev | tr '\\n' ' '"])
    expect("result" in r, "create: %r" % r)
    print("  env/caps/ro rootfs ->", out(g, ids, "stdout").decode().replace("\n", " | "), json.dumps(ev))
    expect(out(g, ids, "stdout").startswith(b"/root runvm 0\n"), "home/hostname")
    expect(b"NoNewPrivs:\t1" in out(g, ids, "stdout"), "no_new_privs")
    expect(b"Read-only file system" in out(g, ids, "stdout"), "readonly rootfs")


def case_signals(g):
    ids = g.streams()
    r = g.call("create_container", {"id": "c6", "spec": spec(["sleep", "100"]), "stdio": ids})
    expect("result" in r, "create: %r" % r)
    r = g.call("signal_process", {"id": "c6", "signal": 15, "all": False})
    expect("result" in r, "signal: %r" % r)
    ev = g.exit_event("c6")
    print("  SIGTERM in created state ->", json.dumps(ev))
    r = g.call("signal_process", {"id": "c6", "signal": 9})
    expect(r.get("errno") == 3, "signal after exit: %r" % r)
    print("  signal after exit ->", json.dumps(r))
    r, ids, ev = None, g.streams(), None
    r = g.call("create_container", {"id": "c7", "spec": spec(["sleep", "100"]), "stdio": ids})
    g.call("start_container", {"id": "c7"})
    r = g.call("signal_process", {"id": "c7", "signal": 9, "all": True})
    expect("result" in r, "signal: %r" % r)
    ev = g.exit_event("c7")
    expect(ev.get("signal") == 9, "exit %r" % ev)
    print("  SIGKILL --all running ->", json.dumps(ev))


def case_mounts(g):
    data = os.path.join(g.shared, "data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "hello.txt"), "w") as f:
        f.write("from the host\n")
    s = spec(["/bin/sh", "-c", "cat /data/hello.txt; echo x > /data/new 2>&1; wc -c < /proc/kcore; "
                               "echo 1 > /proc/sys/kernel/domainname 2>&1; cat /etc/hostname.d/x; "
                               "grep -c . /proc/self/mountinfo >/dev/null && echo mounts-ok; "
                               "touch /data2/y 2>&1 || echo rro-ok"])
    s["root"]["readonly"] = False
    s["mounts"].append({"destination": "/data", "type": "bind", "source": "/run/runvm/shared/data",
                        "options": ["rbind", "ro", "rprivate"]})
    s["mounts"].append({"destination": "/data2", "type": "bind", "source": "/run/runvm/shared/data",
                        "options": ["rbind", "rro"]})
    s["mounts"].append({"destination": "/etc/hostname.d", "type": "tmpfs", "source": "tmpfs",
                        "options": ["mode=755", "size=1m"]})
    ids = g.streams()
    r = g.call("create_container", {"id": "m1", "spec": s, "stdio": ids})
    expect("result" in r, "create: %r" % r)
    g.call("start_container", {"id": "m1"})
    ev = g.exit_event("m1")
    o = out(g, ids, "stdout") + out(g, ids, "stderr")
    print("  bind ro, masked, readonly, tmpfs ->", o.decode().replace("\n", " | "), json.dumps(ev))
    expect(o.startswith(b"from the host\n"), "bind mount content")
    expect(b"Read-only file system" in o, "ro bind")
    expect(b"\n0\n" in o, "masked /proc/kcore")
    expect(b"mounts-ok" in o, "mountinfo")
    expect(b"rro-ok" in o, "rro")


def case_user(g):
    s = spec(["/bin/sh", "-c", "id; grep -E '^Cap(Eff|Bnd|Prm)' /proc/self/status; pwd; umask"])
    s["process"]["user"] = {"uid": 65534, "gid": 65534, "additionalGids": [5], "umask": 63}
    s["process"]["capabilities"] = {"bounding": ["CAP_KILL"], "effective": [], "permitted": []}
    s["process"]["cwd"] = "/tmp/work"
    ids = g.streams()
    r = g.call("create_container", {"id": "u1", "spec": s, "stdio": ids})
    expect("result" in r, "create: %r" % r)
    g.call("start_container", {"id": "u1"})
    ev = g.exit_event("u1")
    o = out(g, ids, "stdout")
    print("  uid 65534 ->", o.decode().replace("\n", " | "), out(g, ids, "stderr"), json.dumps(ev))
    expect(o.startswith(b"uid=65534(nobody) gid=65534(nogroup) groups=5"), "id")
    expect(b"CapEff:\t0000000000000000" in o and b"CapBnd:\t0000000000000020" in o, "caps")
    expect(b"/tmp/work\n0077" in o, "cwd/umask")


def case_devs(g):
    # /dev on the rootfs itself (virtio-fs, nodev): default devices must
    # still work.
    s = spec(["/bin/sh", "-c", "echo x > /dev/null && head -c 3 /dev/zero | wc -c && ls -l /dev/null"])
    s["mounts"] = [m for m in s["mounts"] if m["destination"] != "/dev"]
    s["root"]["readonly"] = False
    r, ids, ev = None, g.streams(), None
    r = g.call("create_container", {"id": "d1", "spec": s, "stdio": ids})
    expect("result" in r, "create: %r" % r)
    g.call("start_container", {"id": "d1"})
    ev = g.exit_event("d1")
    o = out(g, ids, "stdout") + out(g, ids, "stderr")
    print("  /dev on virtio-fs ->", o.decode().replace("\n", " | "), json.dumps(ev))
    expect(o.startswith(b"3\n") and ev.get("exit_code") == 0, "devices")


def case_holders(g):
    # No PID namespace: a grandchild keeps stdout open after the init
    # exits; the agent must give up on it after its bounded drain.
    s = spec(["/bin/sh", "-c", "sleep 20 & echo started"])
    s["linux"]["namespaces"] = [n for n in s["linux"]["namespaces"] if n["type"] != "pid"]
    ids = g.streams()
    r = g.call("create_container", {"id": "h1", "spec": s, "stdio": ids})
    expect("result" in r, "create: %r" % r)
    t = time.monotonic()
    g.call("start_container", {"id": "h1"})
    ev = g.exit_event("h1")
    dt = time.monotonic() - t
    expect(out(g, ids, "stdout") == b"started\n" and ev.get("exit_code") == 0, "%r %r" % (out(g, ids, "stdout"), ev))
    expect(dt < 10, "exit reported after %.1f s" % dt)
    print("  grandchild holding stdout, no pid ns -> exit after %.1f s %s" % (dt, json.dumps(ev)))
    # The process closes stdin: what the host still sends is dropped and
    # credited, so the host never stalls.
    data = b"y" * (1 << 20)
    r, ids, ev = run(g, "h2", ["/bin/sh", "-c", "exec 0<&-; sleep 1; echo done"], stdin_data=data)
    expect(out(g, ids, "stdout") == b"done\n", "stdout %r" % out(g, ids, "stdout"))
    print("  1 MiB to a closed stdin -> %r %s" % (out(g, ids, "stdout"), json.dumps(ev)))


def case_badinput(g):
    bad = [
        {},
        {"id": 7},
        {"id": "b1"},
        {"id": "b1", "spec": "nope"},
        {"id": "b1", "spec": {"ociVersion": "1.1.0"}},
        {"id": "b1", "spec": spec(["true"]), "stdio": {"stdout": 5000}},
        {"id": "b1", "spec": spec(["true"]), "stdio": {"stdout": 900, "stderr": 900}},
        {"id": "b1", "spec": spec(["true"]), "stdio": {"stdout": -1}},
        {"id": "b1", "spec": spec(["true"]), "stdio": {"terminal": 3}},
        {"id": "b1", "spec": spec(["true"], terminal=True)},
        {"id": "b1", "spec": dict(spec(["true"]), root={"path": "/run/runvm/shared/nothere"})},
        {"id": "b1", "spec": dict(spec(["true"]), mounts=[{"destination": "/x", "type": "bind",
                                                            "source": "/nonexistent"}])},
        {"id": "b1", "spec": dict(spec(["true"]), linux={"namespaces": [{"type": "mount"},
                                                                        {"type": "pid", "path": "/proc/1/ns/pid"}]})},
    ]
    for params in bad:
        r = g.call("create_container", params)
        expect("error" in r and r.get("errno", 0) > 0, "accepted %r: %r" % (params, r))
        print("  %-60.60s -> %s (errno %d)" % (json.dumps(params)[:60], r["error"][:110], r["errno"]))
    r = g.call("hello", {"version": 2})
    expect(r.get("errno") == 93, "hello version 2: %r" % r)
    print("  hello version 2 -> %s (errno %d)" % (r["error"], r["errno"]))
    # Streams named by a failed create are closed again: the ids can be
    # reused at once.
    ids = {"stdout": 600, "stderr": 601}
    r = g.call("create_container", {"id": "b2", "spec": {"bad": 1}, "stdio": ids})
    expect("error" in r, "%r" % r)
    r = g.call("create_container", {"id": "b2", "spec": spec(["true"]), "stdio": ids})
    expect("result" in r, "reusing the ids of a failed create: %r" % r)
    for m, p in [("start_container", {"id": "zz"}), ("signal_process", {"id": "zz", "signal": 9}),
                 ("signal_process", {"id": "c1", "signal": 999}), ("start_container", {})]:
        r = g.call(m, p)
        expect("error" in r, "%s %r: %r" % (m, p, r))
        print("  %s %s -> %s (errno %d)" % (m, json.dumps(p), r["error"], r["errno"]))
    # Still healthy afterwards, and the ids of failed creates are reusable.
    r, ids, ev = run(g, "b1", ["/bin/true"])
    expect(ev.get("exit_code") == 0, "after bad input: %r %r" % (r, ev))
    r = g.call("create_container", {"id": "b1", "spec": spec(["true"])})
    expect(r.get("errno") == 17, "duplicate id: %r" % r)
    print("  duplicate id ->", r["error"])


def case_unknown(g):
    r = g.call("frobnicate", {})
    expect(r.get("error") == "unknown method `frobnicate`" and r.get("errno") == 38, "%r" % r)
    print("  unknown method ->", json.dumps(r))
    s = spec(["true"])
    s["linux"]["namespaces"].append({"type": "user"})
    r = g.call("create_container", {"id": "c8", "spec": s, "stdio": g.streams()})
    expect("error" in r and "user" in r["error"], "%r" % r)
    print("  user namespace ->", json.dumps(r))


def case_shutdown(g):
    t = time.monotonic()
    r = g.call("shutdown", {})
    expect("result" in r, "shutdown: %r" % r)
    try:
        g.qemu.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise Failure("qemu still running 30 s after shutdown\n" + g.console_tail())
    print("  shutdown -> %s, qemu exited %d after %.2f s" % (json.dumps(r["result"]), g.qemu.returncode,
                                                             time.monotonic() - t))


# --- runtime services (exec, terminals, cgroups, freezer, stats) -------------
def tty_stream(g):
    sid = g.next_stream
    g.next_stream += 1
    g.send_credit[sid] = INITIAL_CREDIT
    return sid


def exec_call(g, cid, eid, args, terminal=False, size=None, user=None, stdin=False):
    proc = {"terminal": terminal, "user": user or {"uid": 0, "gid": 0}, "args": args,
            "env": ["PATH=/usr/bin:/bin", "TERM=xterm"], "cwd": "/"}
    if size:
        proc["consoleSize"] = {"height": size[0], "width": size[1]}
    ids = {"terminal": tty_stream(g)} if terminal else g.streams(stdin=stdin)
    r = g.call("exec_process", {"id": cid, "exec_id": eid, "process": proc, "stdio": ids})
    return r, ids


def exec_event(g, cid, eid, timeout=60):
    def find():
        for e in g.events:
            d = e.get("data", {})
            if e.get("event") == "process_exited" and d.get("id") == cid and d.get("exec_id") == eid:
                return d
        return None
    g.wait(lambda: find() is not None, timeout, "process_exited of exec " + eid)
    return find()


def start_sleeper(g, cid, s=None):
    s = s or spec(["sleep", "1000"])
    ids = g.streams()
    r = g.call("create_container", {"id": cid, "spec": s, "stdio": ids})
    expect("result" in r, "create %s: %r" % (cid, r))
    expect("result" in g.call("start_container", {"id": cid}), "start " + cid)
    return r["result"]["pid"]


def case_exec(g):
    start_sleeper(g, "x1")
    r, ids = exec_call(g, "x1", "e1", ["sh", "-c", "echo pid=$$; cat /proc/self/cgroup; hostname; id -u; exit 7"])
    expect("result" in r and r["result"]["pid"] > 1, "exec: %r" % r)
    ev = exec_event(g, "x1", "e1")
    o = out(g, ids, "stdout")
    print("  exec sh -> %r %s" % (o, json.dumps(ev)))
    expect(ev.get("exit_code") == 7 and ev.get("pid") == r["result"]["pid"], "exit %r" % ev)
    expect(o.startswith(b"pid=") and b"0::/containers/x1\n" in o and b"runvm\n" in o, "pid ns / cgroup / uts: %r" % o)
    expect(int(o.split(b"\n")[0][4:]) > 1, "pid in the container's namespace")
    r, _ = exec_call(g, "x1", "e2", ["nosuchcmd"])
    expect(r.get("error") == 'exec: "nosuchcmd": executable file not found in $PATH' and r.get("errno") == 2,
           "missing: %r" % r)
    print("  exec missing ->", json.dumps(r))
    r, _ = exec_call(g, "nope", "e3", ["true"])
    expect(r.get("errno") == 2, "no container: %r" % r)
    # stdin, a non-root user, and an id reused after its exit
    g.events = [e for e in g.events if e.get("data", {}).get("exec_id") != "e1"]
    r, ids = exec_call(g, "x1", "e1", ["sh", "-c", "id; wc -c"], user={"uid": 65534, "gid": 65534}, stdin=True)
    expect("result" in r, "exec stdin: %r" % r)
    g.send_stdin(ids["stdin"], b"hello\n")
    g.send_frame(ids["stdin"], EOF)
    ev = exec_event(g, "x1", "e1")
    o = out(g, ids, "stdout")
    print("  exec as nobody with stdin -> %r" % o)
    expect(o.startswith(b"uid=65534") and o.endswith(b"6\n"), "exec stdin %r" % o)
    r = g.call("signal_process", {"id": "x1", "signal": 9})
    g.exit_event("x1")
    r, _ = exec_call(g, "x1", "e4", ["true"])
    expect(r.get("errno") == 3, "exec after exit: %r" % r)
    print("  exec after the init exited ->", json.dumps(r))


def case_tty(g):
    s = spec(["sh", "-c", "tty; stty size; ls -l /dev/console | cut -c1; read x; stty size"], terminal=True)
    s["process"]["consoleSize"] = {"height": 30, "width": 100}
    sid = tty_stream(g)
    r = g.call("create_container", {"id": "t1", "spec": s, "stdio": {"terminal": sid}})
    expect("result" in r, "create tty: %r" % r)
    expect("result" in g.call("start_container", {"id": "t1"}), "start")
    g.wait(lambda: g.data.get(sid, b"").count(b"\n") >= 3, 30, "tty output")
    r = g.call("resize_tty", {"id": "t1", "height": 40, "width": 120})
    expect("result" in r, "resize: %r" % r)
    g.send_frame(sid, DATA, b"go\n")
    g.send_frame(sid, EOF)          # ignored on a terminal
    ev = g.exit_event("t1")
    o = bytes(g.data.get(sid, b""))
    print("  init on a tty -> %r %s" % (o, json.dumps(ev)))
    expect(b"30 100" in o and b"40 120" in o and ev.get("exit_code") == 0, "tty init %r" % o)
    expect(b"c\r\n" in o, "/dev/console is a char device")
    r = g.call("resize_tty", {"id": "t1", "height": 1, "width": 1})
    expect("error" in r, "resize after exit: %r" % r)
    start_sleeper(g, "t2")
    r, ids = exec_call(g, "t2", "e1", ["sh", "-c", "tty; stty size; read x; stty size"], terminal=True,
                       size=(25, 90))
    expect("result" in r, "exec tty: %r" % r)
    sid = ids["terminal"]
    g.wait(lambda: g.data.get(sid, b"").count(b"\n") >= 2, 30, "exec tty output")
    r = g.call("resize_tty", {"id": "t2", "exec_id": "e1", "height": 50, "width": 150})
    expect("result" in r, "resize exec: %r" % r)
    g.send_frame(sid, DATA, b"\n")
    ev = exec_event(g, "t2", "e1")
    o = bytes(g.data.get(sid, b""))
    print("  exec on a tty -> %r %s" % (o, json.dumps(ev)))
    expect(o.startswith(b"/dev/pts/") and b"25 90" in o and b"50 150" in o, "exec tty %r" % o)
    r = g.call("resize_tty", {"id": "t2", "height": 1, "width": 1})
    expect(r.get("errno") == 25, "resize without a tty: %r" % r)
    g.call("signal_process", {"id": "t2", "signal": 9})
    g.exit_event("t2")


def case_cgroups(g):
    s = spec(["sh", "-c", "cat /proc/self/cgroup; cd /sys/fs/cgroup; cat memory.max memory.low cpu.max cpu.weight "
                          "pids.max memory.high; echo > /dev/null && echo null-ok; mknod /dev/k c 1 11; "
                          "echo x > /dev/k 2>&1; head -c1 /dev/k >/dev/null 2>&1 || echo read-denied; "
                          "mknod /dev/m c 1 1 && head -c1 /dev/m 2>&1"])
    s["root"]["readonly"] = False
    for k in ("bounding", "effective", "permitted"):
        s["process"]["capabilities"][k].append("CAP_MKNOD")
    s["linux"]["namespaces"].append({"type": "cgroup"})
    s["linux"]["resources"] = {
        "memory": {"limit": 64 << 20, "reservation": 16 << 20},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000},
        "pids": {"limit": 20},
        "unified": {"memory.high": "50331648"},
        "devices": [{"allow": False, "access": "rwm"},
                    {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"},
                    {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"}],
    }
    r, ids, ev = None, g.streams(), None
    r = g.call("create_container", {"id": "g1", "spec": s, "stdio": ids})
    expect("result" in r, "create: %r" % r)
    g.call("start_container", {"id": "g1"})
    ev = g.exit_event("g1")
    o = (out(g, ids, "stdout") + out(g, ids, "stderr")).decode()
    print("  resources ->", o.replace("\n", " | "), json.dumps(ev))
    expect(o.startswith("0::/\n"), "cgroup namespace")
    expect("67108864\n16777216\n50000 100000\n39\n20\n50331648\n" in o, "cgroup files")
    expect("null-ok" in o, "runc's default devices stay allowed")
    expect("read-denied" in o and "Operation not permitted" in o, "device rules")
    s = spec(["true"])
    s["linux"]["resources"] = {"devices": [{"allow": True, "type": "x", "access": "rwm"}]}
    r = g.call("create_container", {"id": "g2", "spec": s})
    expect("error" in r, "bad device type: %r" % r)
    s["linux"]["resources"] = {"unified": {"nosuch.file": "1"}}
    r = g.call("create_container", {"id": "g3", "spec": s})
    expect("error" in r and "nosuch.file" in r["error"], "bad unified key: %r" % r)
    print("  bad rules ->", r["error"])


def case_pause(g):
    start_sleeper(g, "p1")
    r, ids = exec_call(g, "p1", "bg", ["sh", "-c", "sleep 1000"])
    expect("result" in r, "exec: %r" % r)
    r = g.call("list_processes", {"id": "p1"})
    expect("result" in r, "ps: %r" % r)
    procs = r["result"]["processes"]
    print("  ps ->", json.dumps(procs))
    expect(procs[0]["pid"] == 1 and procs[0]["cmd"] == "sleep 1000" and procs[0]["ppid"] == 0, "init row")
    expect(any(p["cmd"] == "sh -c sleep 1000" or p["cmd"] == "sleep 1000" for p in procs[1:]), "exec row")
    t = time.monotonic()
    r = g.call("pause_container", {"id": "p1"})
    expect("result" in r, "pause: %r" % r)
    print("  pause -> %s in %.2f s" % (json.dumps(r), time.monotonic() - t))
    r, _ = exec_call(g, "p1", "e2", ["true"])
    expect(r.get("errno") == 16, "exec while paused: %r" % r)
    r = g.call("pause_container", {"id": "p1"})
    expect("error" in r, "pause twice: %r" % r)
    r = g.call("resume_container", {"id": "p1"})
    expect("result" in r, "resume: %r" % r)
    r = g.call("update_resources", {"id": "p1", "resources": {"pids": {"limit": 7}, "memory": {"limit": 100 << 20}}})
    expect("result" in r, "update: %r" % r)
    r, ids = exec_call(g, "p1", "e3", ["cat", "/sys/fs/cgroup/containers/p1/pids.max", "/sys/fs/cgroup/containers/p1/memory.max"])
    exec_event(g, "p1", "e3")
    expect(out(g, ids, "stdout") == b"7\n104857600\n", "update %r" % out(g, ids, "stdout"))
    r = g.call("stats", {"id": "p1"})
    expect("result" in r, "stats: %r" % r)
    st = r["result"]
    print("  stats -> pids %s memory.usage %s cpu %s net %s" % (st["pids"], st["memory"]["usage"], st["cpu"]["usage"],
                                                              [i["name"] for i in st["network_interfaces"]]))
    expect(st["pids"]["current"] >= 2 and st["pids"]["limit"] == 7 and st["memory"]["usage"]["limit"] == 100 << 20,
           "stats values")
    expect("raw" in st["memory"] and "anon" in st["memory"]["raw"], "memory.stat")
    g.call("signal_process", {"id": "p1", "signal": 9, "all": True})
    g.exit_event("p1")
    exec_event(g, "p1", "bg")


def case_oom(g):
    s = spec(["sh", "-c", "head -c 200m /dev/zero | tail > /dev/null; echo survived $?"])
    s["linux"]["resources"] = {"memory": {"limit": 24 << 20, "swap": 24 << 20}}
    ids = g.streams()
    r = g.call("create_container", {"id": "o1", "spec": s, "stdio": ids})
    expect("result" in r, "create: %r" % r)
    g.call("start_container", {"id": "o1"})
    ev = g.exit_event("o1", 120)
    g.wait(lambda: any(e.get("event") == "oom" and e["data"]["id"] == "o1" for e in g.events), 10, "the oom event")
    print("  memory hog ->", out(g, ids, "stdout"), json.dumps(ev), "+ oom event")


CASES = [("hello", case_hello), ("exit42", case_exit42), ("missing", case_missing),
         ("env", case_env), ("mounts", case_mounts), ("user", case_user), ("stdin", case_stdin),
         ("signals", case_signals), ("devs", case_devs), ("holders", case_holders), ("badinput", case_badinput),
         ("unknown", case_unknown), ("exec", case_exec), ("tty", case_tty), ("cgroups", case_cgroups),
         ("pause", case_pause), ("oom", case_oom),
         ("big", case_big), ("shutdown", case_shutdown)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--initrd", default="build/guest/initrd.img")
    ap.add_argument("--kernel", default=(sorted(glob.glob("/boot/vmlinuz-*-cloud-amd64")) or [""])[-1])
    ap.add_argument("--debug", action="store_true", help="runvm.debug=1 (log on the console)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--connect-delay", type=float, default=0,
                    help="seconds to wait after QEMU starts before connecting")
    ap.add_argument("cases", nargs="*")
    opts = ap.parse_args()
    want = opts.cases or [n for n, _ in CASES]
    g = Guest(opts)
    failed = 0
    try:
        g.boot()
        for name, fn in CASES:
            if name not in want and name not in ("hello", "shutdown"):
                continue
            print(name)
            try:
                fn(g)
            except Failure as e:
                failed += 1
                print("  FAIL:", e)
                if name in ("hello", "shutdown"):
                    break
    finally:
        if failed:
            print("--- console tail ---\n" + g.console_tail())
        g.close()
    print("%s: %d case(s) failed" % ("FAIL" if failed else "ok", failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
