#!/usr/bin/env python3
"""The long-running amplink commands as systemd sees them, without systemd:
the test owns NOTIFY_SOCKET (and the journal's socket) and starts the
commands with the environment a Type=notify unit with WatchdogSec= gives.

  rproc    `amplink rproc start FW --restart`: READY=1 once the remote
           answers its heartbeat, WATCHDOG=1 at half the interval; the
           firmware frozen (SIGSTOP): STATUS says "no heartbeat" and then
           the crash and the new boot, while the pings go on (the manager
           is fine); the manager itself hung (SIGSTOP): no ping until it
           runs again; SIGTERM: STOPPING=1, exit 0.
  nowhere  NOTIFY_SOCKET pointing at nothing: the manager runs, answers
           `amplink rproc status`, stops cleanly.
  log      `amplink remote --log-flood` and `amplink log --journal`: READY=1
           once attached; every entry on the test's journal socket carries
           MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, REMOTE, LINK,
           REMOTE_TIMESTAMP; the levels debug, info, notice and warning
           all arrive with their syslog numbers.
  dash     `amplink dash` (when built): READY=1 names the port, and that
           port takes a connection.
  bridge   `amplink bridge mqtt` (when built, and mosquitto is installed):
           broker not there yet: STATUS says so, WATCHDOG=1 goes on, no
           READY; the broker starts: READY=1 "connected to the broker".

usage: it_service.py AMPLINK RPROC_FW_DEMO
Prints "PASS it_service" at the end; exit 1 on the first failure.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

AMPLINK, FW = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="it_service.")
procs = []


def fail(msg):
    print("FAIL it_service: " + msg + " (stderr of each command in %s)" % WORK)
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
            p.kill()
    os._exit(1)  # keeps WORK for a look


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg)


def bind(name):
    path = os.path.join(WORK, name)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    return s, path


def recv_for(sock, secs):
    """Every datagram within secs, as (time, bytes)."""
    out, end = [], time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return out
        sock.settimeout(left)
        try:
            out.append((time.monotonic(), sock.recv(1 << 16)))
        except socket.timeout:
            return out


def wait_for(sock, pred, secs, seen):
    """Datagrams until one satisfies pred (appended to seen); None on timeout."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            d = sock.recv(1 << 16)
        except socket.timeout:
            return None
        seen.append(d)
        if pred(d):
            return d
    return None


def start(args, env_extra, watchdog_pid=True):
    """Start amplink ARGS; with watchdog_pid, WATCHDOG_PID is its own pid
    (a shell execs it, as systemd's exec keeps the pid)."""
    env = dict(os.environ)
    env.update(env_extra)
    cmd = [AMPLINK] + args
    if watchdog_pid:
        cmd = ["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh"] + cmd
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(WORK, args[0] + ".err"), "ab"))
    procs.append(p)
    return p


def fw_pid(name):
    out = subprocess.run([AMPLINK, "rproc", "status", "--name", name],
                         capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"\(pid (\d+),", out)
    return int(m.group(1)) if m else None


def status_of(d):
    m = re.search(rb"STATUS=([^\n]*)", d)
    return m.group(1).decode(errors="replace") if m else None


# ---- rproc ------------------------------------------------------------------
def test_rproc():
    ns, npath = bind("notify-rproc")
    name = "svc%d" % os.getpid()
    # watchdog 600 ms: a ping every 300 ms; the loop turns every 100 ms
    mgr = start(["rproc", "start", FW, "--restart", "--heartbeat", "400", "--name", name],
                {"NOTIFY_SOCKET": npath, "WATCHDOG_USEC": "600000"})
    seen = []
    t0 = time.monotonic()
    ready = wait_for(ns, lambda d: d.startswith(b"READY=1"), 10, seen)
    check(ready is not None, "rproc: READY=1 within 10 s (%.2f s)" % (time.monotonic() - t0))
    st = status_of(ready)
    check(st and st.startswith(name + ": running") and "answering its heartbeat" in st,
          "rproc: READY carries the state in words: '%s'" % st)
    check(not any(b"READY=1" in d for d in seen[:-1]), "rproc: READY=1 sent once, not before")

    got = recv_for(ns, 1.5)
    pings = [t for t, d in got if d == b"WATCHDOG=1"]
    check(3 <= len(pings) <= 7, "rproc: %d WATCHDOG=1 in 1.5 s (one per 300 ms)" % len(pings))

    # the firmware freezes: the manager says so, restarts it, and stays alive
    pid = fw_pid(name)
    check(pid is not None, "rproc: firmware pid %s from `amplink rproc status`" % pid)
    os.kill(pid, signal.SIGSTOP)
    got = recv_for(ns, 3.0)
    statuses = [status_of(d) for _, d in got if status_of(d)]
    pings = [t for t, d in got if d == b"WATCHDOG=1"]
    print("   statuses after the freeze: %s" % statuses)
    check(any(re.match(re.escape(name) + r": no heartbeat for \d+\.\d s", s) for s in statuses),
          "rproc: STATUS says 'no heartbeat for N s' for the frozen firmware")
    check(any("stopped answering the heartbeat" in s for s in statuses),
          "rproc: STATUS names the crash (stopped answering the heartbeat)")
    check(len(pings) >= 4, "rproc: the manager's pings go on meanwhile (%d in 3 s)" % len(pings))
    last = statuses[-1] if statuses else ""
    if not last.startswith(name + ": running"):
        again = wait_for(ns, lambda d: (status_of(d) or "").startswith(name + ": running"), 10, [])
        last = status_of(again) if again else ""
    check(last.startswith(name + ": running, boot #2"),
          "rproc: STATUS back to running after the restart: '%s'" % last)

    # the manager hangs: no ping while it does, pings again after
    os.kill(mgr.pid, signal.SIGSTOP)
    recv_for(ns, 0.05)  # what was in flight
    got = recv_for(ns, 1.5)
    check(not any(d == b"WATCHDOG=1" for _, d in got),
          "rproc: no WATCHDOG=1 while the manager hangs (1.5 s, 2.5 intervals)")
    os.kill(mgr.pid, signal.SIGCONT)
    back = wait_for(ns, lambda d: d == b"WATCHDOG=1", 1.0, [])
    check(back is not None, "rproc: WATCHDOG=1 again once it runs")

    mgr.send_signal(signal.SIGTERM)
    stop = wait_for(ns, lambda d: d.startswith(b"STOPPING=1"), 5, [])
    check(stop is not None, "rproc: STOPPING=1 on SIGTERM ('%s')" % (status_of(stop) if stop else None))
    check(mgr.wait(10) == 0, "rproc: exit 0 after SIGTERM")
    ns.close()


def test_nowhere():
    name = "svcn%d" % os.getpid()
    mgr = start(["rproc", "start", FW, "--name", name],
                {"NOTIFY_SOCKET": os.path.join(WORK, "nobody", "notify"),
                 "WATCHDOG_USEC": "600000"})
    pid = None
    for _ in range(50):
        time.sleep(0.1)
        pid = fw_pid(name)
        if pid:
            break
    check(pid is not None and mgr.poll() is None,
          "nowhere: NOTIFY_SOCKET at nothing, the manager runs its remote (pid %s)" % pid)
    time.sleep(0.5)
    check(mgr.poll() is None, "nowhere: still running after its pings went nowhere")
    mgr.send_signal(signal.SIGTERM)
    check(mgr.wait(10) == 0, "nowhere: exit 0 after SIGTERM")


# ---- log to the journal -----------------------------------------------------
def parse_entry(d):
    """journald's native protocol, as journald parses it."""
    fields, off = [], 0
    while off < len(d):
        nl = d.index(b"\n", off)
        line = d[off:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            off = nl + 1
        else:
            k = line
            n = int.from_bytes(d[nl + 1:nl + 9], "little")
            v = d[nl + 9:nl + 9 + n]
            if d[nl + 9 + n:nl + 10 + n] != b"\n":
                fail("log: bad binary field %r" % k)
            off = nl + 10 + n
        if not re.fullmatch(rb"[A-Z][A-Z0-9_]{0,63}", k):
            fail("log: bad field name %r" % k)
        fields.append((k.decode(), v.decode(errors="replace")))
    return fields


def test_log():
    link = "svcl%d" % os.getpid()
    js, jpath = bind("journal")
    ns, npath = bind("notify-log")
    remote = start(["remote", "--link", link, "--log-flood", "40", "--stats-ms", "100"], {},
                   watchdog_pid=False)
    time.sleep(0.3)
    log = start(["log", "--journal", "--link", link, "--ident", "m4-core", "-n", "60"],
                {"NOTIFY_SOCKET": npath, "WATCHDOG_USEC": "2000000",
                 "AMPLINK_JOURNAL_SOCKET": jpath})
    # journald reads as entries come (a socket's queue holds only ~10)
    got, done = [], threading.Event()

    def read_journal():
        js.settimeout(0.1)
        while not done.is_set():
            try:
                got.append(js.recv(1 << 16))
            except socket.timeout:
                pass

    reader = threading.Thread(target=read_journal, daemon=True)
    reader.start()
    ready = wait_for(ns, lambda d: d.startswith(b"READY=1"), 10, [])
    check(ready is not None and "attached to link '%s'" % link in status_of(ready),
          "log: READY=1 once attached: '%s'" % (status_of(ready) if ready else None))
    rc = log.wait(20)
    check(rc == 0, "log: `amplink log -n 60` exits 0")
    remote.send_signal(signal.SIGTERM)
    remote.wait(10)
    time.sleep(0.3)
    done.set()
    reader.join()
    entries = [parse_entry(d) for d in got]
    check(len(entries) >= 60, "log: %d entries on the journal socket" % len(entries))
    prios = set()
    for e in entries:
        f = dict(e)
        keys = [k for k, _ in e]
        for k in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "REMOTE", "LINK",
                  "REMOTE_TIMESTAMP"):
            if keys.count(k) != 1:
                fail("log: entry without exactly one %s: %r" % (k, e))
        if f["REMOTE"] != "m4-core" or f["SYSLOG_IDENTIFIER"] != "m4-core" or f["LINK"] != link:
            fail("log: wrong names in %r" % e)
        if not re.fullmatch(r"\d+\.\d{3}", f["REMOTE_TIMESTAMP"]):
            fail("log: bad REMOTE_TIMESTAMP in %r" % e)
        prios.add(int(f["PRIORITY"]))
    print("   priorities seen: %s; first entry: %r" % (sorted(prios), entries[0]))
    check({4, 5, 6, 7} <= prios,
          "log: warning (4), notice (5), info (6) and debug (7) arrive as PRIORITY")
    check(any(dict(e)["MESSAGE"].startswith("flood line") and dict(e)["PRIORITY"] == "7"
              for e in entries), "log: the remote's debug lines carry their text")
    js.close()
    ns.close()


# ---- dash and bridge --------------------------------------------------------
def sibling(name):
    return os.path.exists(os.path.join(os.path.dirname(AMPLINK), name))


def test_dash():
    if not sibling("amplink-dash"):
        print("skip: dash (amplink-dash not built)")
        return
    link = "svcd%d" % os.getpid()
    ns, npath = bind("notify-dash")
    start(["remote", "--link", link, "--demo", "motor"], {}, watchdog_pid=False)
    time.sleep(0.3)
    dash = start(["dash", "--link", link, "--port", "0", "--db", os.path.join(WORK, "t.db")],
                 {"NOTIFY_SOCKET": npath, "WATCHDOG_USEC": "600000"})
    seen = []
    ready = wait_for(ns, lambda d: d.startswith(b"READY=1"), 10, seen)
    st = status_of(ready) if ready else ""
    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", st or "")
    check(m is not None, "dash: READY=1 names where it listens: '%s'" % st)
    c = socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=5)
    c.close()
    check(True, "dash: port %s takes a connection" % m.group(1))
    pings = [d for _, d in recv_for(ns, 1.0) if d == b"WATCHDOG=1"]
    check(len(pings) >= 2, "dash: %d WATCHDOG=1 in 1 s (one per 300 ms)" % len(pings))
    dash.send_signal(signal.SIGTERM)
    check(dash.wait(10) == 0, "dash: exit 0 after SIGTERM")
    ns.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_bridge():
    mosq = "/usr/sbin/mosquitto"
    if not sibling("amplink-bridge") or not os.path.exists(mosq):
        print("skip: bridge (amplink-bridge not built or mosquitto not installed)")
        return
    link = "svcb%d" % os.getpid()
    port = free_port()
    ns, npath = bind("notify-bridge")
    start(["remote", "--link", link, "--ticker", "tick:100"], {}, watchdog_pid=False)
    time.sleep(0.3)
    br = start(["bridge", "mqtt", "--link", link, "--port", str(port), "--greet", "tick"],
               {"NOTIFY_SOCKET": npath, "WATCHDOG_USEC": "600000"})
    got = recv_for(ns, 2.0)
    statuses = [status_of(d) for _, d in got if status_of(d)]
    check(not any(d.startswith(b"READY=1") for _, d in got),
          "bridge: no READY=1 while the broker is not there")
    check(any(("127.0.0.1:%d down" % port) in x for x in statuses),
          "bridge: STATUS says the broker is down: '%s'" % (statuses[-1] if statuses else None))
    check(sum(d == b"WATCHDOG=1" for _, d in got) >= 4,
          "bridge: the loop pings while it waits for the broker")
    conf = os.path.join(WORK, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    broker = subprocess.Popen([mosq, "-c", conf], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    procs.append(broker)
    ready = wait_for(ns, lambda d: d.startswith(b"READY=1"), 20, [])
    check(ready is not None and "connected to the broker" in status_of(ready),
          "bridge: READY=1 once connected: '%s'" % (status_of(ready) if ready else None))
    br.send_signal(signal.SIGTERM)
    check(br.wait(10) == 0, "bridge: exit 0 after SIGTERM")
    broker.terminate()
    broker.wait(10)
    ns.close()


try:
    test_rproc()
    test_nowhere()
    test_log()
    test_dash()
    test_bridge()
finally:
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
    shutil.rmtree(WORK, ignore_errors=True)
print("PASS it_service")
