#!/usr/bin/env python3
"""A hostile BGP peer against bgpspeak (blockd's speaker) over loopback.

    hostile_peer.py BGPSPEAK GROUP      GROUP: opensent | openconfirm | established | dump | burst | rfc7606

Each case starts a fresh passive bgpspeak, connects to it, drives the session to an FSM state,
sends what a broken or hostile peer sends (RFC 4271 section 6, RFC 6608, RFC 7313, RFC 7606,
RFC 7607, RFC 6793) and asserts on the bytes read from the socket: every message well framed,
the NOTIFICATION with the expected code/subcode as the last message, then the close. Nothing is
read from bgpspeak's log. The addresses are 127.x.y.1 (bgpspeak) and 127.x.y.2; the groups dump
and rfc7606 run in a network namespace of their own (root), see private_loopback().
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

PEER_AS, SPEAK_AS = 65001, 65002
OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE_REFRESH = 1, 2, 3, 4, 5
TABLE_SIZE = 100_000  # bgpspeak's table: /26 prefixes, about 400 KB of UPDATEs

# ---- wire format -------------------------------------------------------------------------------


def message(mtype, body=b"", length=None):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body) if length is None else length, mtype) + body


def capability(code, value=b""):
    return bytes([code, len(value)]) + value


def open_message(my_as=PEER_AS, hold=30, bgp_id="10.0.0.1", version=4, four_octet=PEER_AS, families=((1, 1),),
                 params=None):
    caps = b"".join(capability(1, struct.pack("!HBB", afi, 0, safi)) for afi, safi in families)
    if four_octet is not None:
        caps += capability(65, struct.pack("!I", four_octet))
    if params is None:
        params = bytes([2, len(caps)]) + caps
    body = struct.pack("!BHH4sB", version, my_as, hold, socket.inet_aton(bgp_id), len(params)) + params
    return message(OPEN, body)


def attribute(flags, code, value):
    if flags & 0x10:
        return bytes([flags, code]) + struct.pack("!H", len(value)) + value
    return bytes([flags, code, len(value)]) + value


def prefix(text):
    addr, plen = text.split("/")
    plen = int(plen)
    return bytes([plen]) + socket.inet_aton(addr)[: (plen + 7) // 8]


ORIGIN = attribute(0x40, 1, b"\x00")
AS_PATH = attribute(0x40, 2, bytes([2, 1]) + struct.pack("!I", PEER_AS))
NEXT_HOP = attribute(0x40, 3, socket.inet_aton("10.0.0.1"))
MANDATORY = ORIGIN + AS_PATH + NEXT_HOP


def update(withdrawn=b"", attrs=b"", nlri=b""):
    return message(UPDATE, struct.pack("!H", len(withdrawn)) + withdrawn + struct.pack("!H", len(attrs)) + attrs + nlri)


def mp_reach_v6():
    nh = socket.inet_pton(socket.AF_INET6, "fd00::1")
    return attribute(0x80, 14, struct.pack("!HBB", 2, 1, 16) + nh + b"\x00" + bytes([64]) + nh[:8])


KEEPALIVE_MSG = message(KEEPALIVE)
ROUTE_REFRESH_MSG = message(ROUTE_REFRESH, struct.pack("!HBB", 1, 0, 1))


class Wire:
    """Reads the socket on a thread and splits the stream into messages, checking each frame."""

    def __init__(self, sock):
        self.sock = sock
        self.messages = []  # (type, body)
        self.eof = False
        self.error = None
        self.cond = threading.Condition()
        self.paused = threading.Event()
        self.paused.set()  # set: reading allowed
        # Called on this thread at the first UPDATE of a table dump (then forgotten): reacting
        # here, not on the main thread, leaves bgpspeak no time to push the whole dump into the
        # kernel's buffers (a loopback send buffer holds it all) before we act.
        self.at_dump = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        buf = b""
        try:
            while True:
                self.paused.wait()
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 19:
                    if buf[:16] != b"\xff" * 16:
                        raise AssertionError("garbled stream: a message without the all-ones marker after %d messages"
                                             % len(self.messages))
                    length, mtype = struct.unpack("!HB", buf[16:19])
                    if length < 19 or length > 65535:
                        raise AssertionError("garbled stream: length %d" % length)
                    if len(buf) < length:
                        break
                    with self.cond:
                        self.messages.append((mtype, buf[19:length]))
                        if self.at_dump and mtype == UPDATE and not is_end_of_rib(mtype, buf[19:length]):
                            act, self.at_dump = self.at_dump, None
                            act()
                        self.cond.notify_all()
                    buf = buf[length:]
            if buf:
                raise AssertionError("stream ended inside a message (%d octets left)" % len(buf))
        except (ConnectionResetError, AssertionError) as e:
            self.error = e
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait(self, pred, timeout=15):
        end = time.time() + timeout
        with self.cond:
            while not pred(self.messages) and not self.eof:
                left = end - time.time()
                if left <= 0:
                    break
                self.cond.wait(left)
            return pred(self.messages)

    def wait_type(self, mtype, count=1, timeout=15):
        return self.wait(lambda ms: sum(1 for t, _ in ms if t == mtype) >= count, timeout)

    def wait_eof(self, timeout=15):
        self.wait(lambda ms: False, timeout)
        return self.eof


def is_end_of_rib(mtype, body):
    return mtype == UPDATE and body == b"\x00\x00\x00\x00"


# ---- bgpspeak ----------------------------------------------------------------------------------


class Lab:
    def __init__(self, bgpspeak):
        self.bgpspeak = bgpspeak
        self.work = tempfile.mkdtemp(prefix="hostile%d." % os.getpid())
        n = os.getpid()
        self.speak_ip = "127.%d.%d.1" % (100 + n % 100, (n // 100) % 250)
        self.peer_ip = "127.%d.%d.2" % (100 + n % 100, (n // 100) % 250)
        with open(os.path.join(self.work, "table.txt"), "w") as f:
            for i in range(TABLE_SIZE):
                f.write("10.%d.%d.%d/26\n" % (i >> 10, (i >> 2) & 255, (i & 3) * 64))
        with open(os.path.join(self.work, "empty.txt"), "w"):
            pass
        self.proc = None
        self.log = os.path.join(self.work, "bgpspeak.log")

    def start(self, table=False, hold=30):
        s = socket.socket()
        s.bind((self.speak_ip, 0))
        self.port = s.getsockname()[1]
        s.close()
        announce = os.path.join(self.work, "table.txt" if table else "empty.txt")
        self.received = os.path.join(self.work, "received.txt")
        if os.path.exists(self.received):
            os.unlink(self.received)
        started = self._starts()
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [self.bgpspeak, "--local-as", str(SPEAK_AS), "--router-id", "10.0.0.2", "--peer",
                 "%s:%d" % (self.peer_ip, PEER_AS), "--listen", self.speak_ip, "--port", str(self.port), "--passive",
                 "--hold-time", str(hold), "--announce", announce, "--dump-received", self.received],
                stdout=log, stderr=log)
        end = time.time() + 20
        while time.time() < end:  # listening once it logs its start
            if self._starts() > started:
                return
            time.sleep(0.05)
        raise AssertionError("bgpspeak did not start")

    def _starts(self):
        try:
            with open(self.log) as f:
                return f.read().count(", announcing ")
        except FileNotFoundError:
            return 0

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def connect(self, small_window=False):
        s = socket.socket()
        if small_window:
            # A small receive window: bgpspeak's table dump stays in flight while we do not read.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind((self.peer_ip, 0))
        s.connect((self.speak_ip, self.port))
        return s


# ---- driving the session -----------------------------------------------------------------------


def to_openconfirm(sock, wire):
    sock.sendall(open_message())
    assert wire.wait_type(OPEN) and wire.wait_type(KEEPALIVE), "no OPEN and KEEPALIVE from bgpspeak"


def to_established(sock, wire, hold=30):
    sock.sendall(open_message(hold=hold))
    assert wire.wait_type(OPEN), "no OPEN from bgpspeak"
    sock.sendall(KEEPALIVE_MSG)
    assert wire.wait(lambda ms: any(is_end_of_rib(t, b) for t, b in ms)), "no End-of-RIB from bgpspeak"


def expect_notification(wire, code, subcode, timeout=15):
    """The last message before the close is our NOTIFICATION, and the stream is intact."""
    assert wire.wait_eof(timeout), "bgpspeak did not close the connection"
    if wire.error:
        raise AssertionError("stream error: %s" % wire.error)
    notes = [(b[0], b[1]) for t, b in wire.messages if t == NOTIFICATION]
    assert notes, "no NOTIFICATION on the wire (messages seen: %s)" % [t for t, _ in wire.messages][-5:]
    assert notes == [(code, subcode)], "NOTIFICATIONs %s, expected [%d/%d]" % (notes, code, subcode)
    assert wire.messages[-1][0] == NOTIFICATION, "the NOTIFICATION is not the last message"
    return len(wire.messages)


# ---- the cases ---------------------------------------------------------------------------------
# Each: (name, expected code, subcode, what to do). `act(lab, sock, wire)` does everything after
# the connect.

def send_now(data):
    return lambda lab, sock, wire: sock.sendall(data)


def in_openconfirm(data):
    def act(lab, sock, wire):
        to_openconfirm(sock, wire)
        sock.sendall(data)
    return act


def in_established(data):
    def act(lab, sock, wire):
        to_established(sock, wire)
        sock.sendall(data)
    return act


BAD_MARKER = b"\x00" + b"\xff" * 15 + struct.pack("!HB", 19, KEEPALIVE)
WITHDRAWN_OVERRUN = message(UPDATE, struct.pack("!H", 10) + b"\x00\x00")
UNKNOWN_WELL_KNOWN = update(attrs=MANDATORY + attribute(0x40, 99, b"\x01"), nlri=prefix("10.200.0.0/24"))
NLRI_33 = update(attrs=MANDATORY, nlri=b"\x21\x0a\x00\x00\x00\x00")
MP_REACH_TWICE = update(attrs=mp_reach_v6() + mp_reach_v6() + ORIGIN + AS_PATH)

OPENSENT = [
    # Sent at once on connect, while bgpspeak's own OPEN is being written (issue 16, item 2).
    ("open_wrong_as", 2, 2, send_now(open_message(my_as=65009, four_octet=65009))),
    ("open_version_3", 2, 1, send_now(open_message(version=3))),
    ("open_hold_time_1", 2, 6, send_now(open_message(hold=1))),
    ("open_hold_time_2", 2, 6, send_now(open_message(hold=2))),
    ("open_bgp_id_zero", 2, 3, send_now(open_message(bgp_id="0.0.0.0"))),
    ("open_as_zero", 2, 2, send_now(open_message(my_as=0, four_octet=None))),  # RFC 7607
    ("open_as_trans_as_4octet_as", 2, 2, send_now(open_message(my_as=23456, four_octet=23456))),  # RFC 6793
    ("open_unsupported_parameter", 2, 4, send_now(open_message(params=bytes([1, 2, 0, 0])))),
    ("open_no_common_family", 2, 7, send_now(open_message(families=((1, 2),)))),
    ("header_bad_marker", 1, 1, send_now(BAD_MARKER)),
    ("header_length_18", 1, 2, send_now(message(KEEPALIVE, length=18))),
    ("header_open_length_28", 1, 2, send_now(message(OPEN, b"\x04" + b"\x00" * 8))),
    ("header_type_9", 1, 3, send_now(message(9))),
    ("keepalive_in_opensent", 5, 1, send_now(KEEPALIVE_MSG)),  # RFC 6608
    ("update_in_opensent", 5, 1, send_now(update())),
    ("route_refresh_in_opensent", 5, 1, send_now(ROUTE_REFRESH_MSG)),
]

OPENCONFIRM = [
    ("open_in_openconfirm", 5, 2, in_openconfirm(open_message())),
    ("update_in_openconfirm", 5, 2, in_openconfirm(update())),
    ("route_refresh_in_openconfirm", 5, 2, in_openconfirm(ROUTE_REFRESH_MSG)),
    ("header_bad_marker_in_openconfirm", 1, 1, in_openconfirm(BAD_MARKER)),
    ("header_type_9_in_openconfirm", 1, 3, in_openconfirm(message(9))),
    ("header_length_5000_in_openconfirm", 1, 2, in_openconfirm(message(UPDATE, length=5000))),
]


def hold_timer_expires(lab, sock, wire):
    to_established(sock, wire, hold=3)  # then silence: no KEEPALIVE from us


ESTABLISHED = [
    ("open_in_established", 5, 3, in_established(open_message())),
    ("keepalive_length_20", 1, 2, in_established(message(KEEPALIVE, b"\x00"))),
    ("header_type_9_in_established", 1, 3, in_established(message(9))),
    ("update_withdrawn_length_overrun", 3, 1, in_established(WITHDRAWN_OVERRUN)),
    ("update_unknown_well_known_attribute", 3, 2, in_established(UNKNOWN_WELL_KNOWN)),
    ("update_nlri_33", 3, 10, in_established(NLRI_33)),
    ("update_mp_reach_twice", 3, 1, in_established(MP_REACH_TWICE)),
    ("route_refresh_length_24", 7, 1, in_established(message(ROUTE_REFRESH, b"\x00\x01\x00\x01\x00"))),  # RFC 7313
    ("hold_timer_expires", 4, 0, hold_timer_expires),
]


def during_dump(data):
    """bgpspeak is sending its 100,000-prefix table: we read its first UPDATE, stop reading (its
    write stays in flight behind our small window), send `data`, then read everything."""
    def act(lab, sock, wire):
        sock.sendall(open_message())
        assert wire.wait_type(OPEN), "no OPEN from bgpspeak"

        def stop_reading_and_send():
            wire.paused.clear()
            sock.sendall(data)
        wire.at_dump = stop_reading_and_send
        sock.sendall(KEEPALIVE_MSG)
        assert wire.wait(lambda ms: any(t == UPDATE and not is_end_of_rib(t, b) for t, b in ms)), "no table dump"
        time.sleep(0.5)  # bgpspeak reads it and queues the NOTIFICATION behind its blocked write
        wire.paused.set()
    return act


DUMP = [
    ("dump_nlri_33", 3, 10, during_dump(NLRI_33)),
    ("dump_mp_reach_twice", 3, 1, during_dump(MP_REACH_TWICE)),
    ("dump_withdrawn_length_overrun", 3, 1, during_dump(WITHDRAWN_OVERRUN)),
    ("dump_unknown_well_known_attribute", 3, 2, during_dump(UNKNOWN_WELL_KNOWN)),
    ("dump_header_bad_marker", 1, 1, during_dump(BAD_MARKER)),
    ("dump_open", 5, 3, during_dump(open_message())),
]


def burst_with_bad_nlri(lab, sock, wire):
    """Both ways at once: bgpspeak dumps its table while we send 20,000 UPDATEs, the 10,000th
    with a /33, reading all the while."""
    sock.sendall(open_message())
    assert wire.wait_type(OPEN), "no OPEN from bgpspeak"
    sock.sendall(KEEPALIVE_MSG)
    burst = []
    for i in range(20000):
        if i == 10000:
            burst.append(NLRI_33)
        else:
            burst.append(update(attrs=MANDATORY, nlri=prefix("172.%d.%d.0/24" % (16 + (i >> 8) % 16, i & 255))))
    try:
        sock.sendall(b"".join(burst))
    except (BrokenPipeError, ConnectionResetError):
        pass  # bgpspeak closed after its NOTIFICATION, before we finished sending: expected


BURST = [("burst_nlri_33", 3, 10, burst_with_bad_nlri)]

GROUPS = {"opensent": OPENSENT, "openconfirm": OPENCONFIRM, "established": ESTABLISHED, "dump": DUMP,
          "burst": BURST}


def run_case(lab, name, code, subcode, act, table=False):
    with open(lab.log, "a") as log:
        log.write("--- case %s\n" % name)
    lab.start(table=table)
    try:
        small = table and name.startswith("dump")
        sock = lab.connect(small_window=small)
        wire = Wire(sock)
        act(lab, sock, wire)
        n = expect_notification(wire, code, subcode)
        if small:
            assert not any(is_end_of_rib(t, b) for t, b in wire.messages), \
                "End-of-RIB arrived: the error was not sent during the table dump"
        sock.close()
        print("ok: %-42s NOTIFICATION %d/%d on the wire, last of %d messages, then the close" % (name, code, subcode, n))
    finally:
        lab.stop()


# ---- RFC 7606: errors that must NOT reset the session, during a table dump ---------------------

def rfc7606_keeps_the_session(lab):
    """During bgpspeak's table dump we send UPDATEs that RFC 7606 answers with treat-as-withdraw
    or attribute discard: no NOTIFICATION, the dump completes with End-of-RIB, the withdrawn
    prefixes are not in bgpspeak's table and the attribute-discard ones are."""
    withdraw = {  # prefix: UPDATE that must leave it withdrawn
        "10.201.1.0/24": attribute(0x40, 1, b"\x03") + AS_PATH + NEXT_HOP,  # ORIGIN 3
        "10.201.2.0/24": attribute(0x40, 1, b"\x00\x00") + AS_PATH + NEXT_HOP,  # ORIGIN length 2
        "10.201.3.0/24": ORIGIN + attribute(0x40, 2, b"\x05\x01\x00\x00\xfd\xe9") + NEXT_HOP,  # segment type 5
        "10.201.4.0/24": ORIGIN + attribute(0x40, 2, b"\x02\x00") + NEXT_HOP,  # zero-length segment
        "10.201.5.0/24": ORIGIN + AS_PATH + attribute(0x40, 3, b"\x0a\x00\x00\x01\x00"),  # NEXT_HOP length 5
        "10.201.6.0/24": MANDATORY + attribute(0x80, 4, b"\x00\x00\x01"),  # MED length 3
        "10.201.7.0/24": MANDATORY + attribute(0xc0, 8, b"\x00\x00\x01"),  # COMMUNITIES length 3
        "10.201.8.0/24": AS_PATH + NEXT_HOP,  # ORIGIN missing
        "10.201.9.0/24": ORIGIN + NEXT_HOP,  # AS_PATH missing
        "10.201.10.0/24": attribute(0xc0, 1, b"\x00") + AS_PATH + NEXT_HOP,  # ORIGIN flagged optional
        "10.201.11.0/24": MANDATORY + b"\x40\x01",  # too few octets for an attribute header
        "10.201.12.0/24": MANDATORY + attribute(0xc0, 32, b"\x00" * 11),  # LARGE_COMMUNITIES length 11
    }
    discard = {  # prefix: UPDATE whose bad attribute is dropped, the route kept
        "10.202.1.0/24": MANDATORY + attribute(0x40, 5, b"\x00\x00\x00\x64"),  # LOCAL_PREF from eBGP
        "10.202.2.0/24": MANDATORY + attribute(0x40, 6, b"\x01"),  # ATOMIC_AGGREGATE length 1
        "10.202.3.0/24": MANDATORY + attribute(0xc0, 7, b"\x00\x01\x02\x03\x04"),  # AGGREGATOR length 5
        "10.202.4.0/24": MANDATORY + attribute(0x40, 1, b"\x02"),  # ORIGIN twice: the first kept
        "10.202.5.0/24": MANDATORY + attribute(0xc0, 200, b"\xde\xad"),  # unknown optional transitive
        "10.202.6.0/24": MANDATORY + attribute(0x80, 201, b"\xbe\xef"),  # unknown optional non-transitive
    }
    # Announced first, then hit by a malformed UPDATE: must disappear (treat-as-withdraw).
    lab.start(table=True)
    try:
        sock = lab.connect(small_window=True)
        wire = Wire(sock)
        sock.sendall(open_message())
        assert wire.wait_type(OPEN), "no OPEN from bgpspeak"
        sock.sendall(KEEPALIVE_MSG)
        assert wire.wait(lambda ms: any(t == UPDATE and not is_end_of_rib(t, b) for t, b in ms)), "no table dump"
        wire.paused.clear()  # the dump stays in flight while we send
        out = [update(attrs=MANDATORY, nlri=prefix(p)) for p in withdraw]
        out += [update(attrs=attrs, nlri=prefix(p)) for p, attrs in withdraw.items()]
        out += [update(attrs=attrs, nlri=prefix(p)) for p, attrs in discard.items()]
        out.append(update(withdrawn=b"", attrs=attribute(0x40, 1, b"\x07")))  # no NLRI, broken attribute
        out.append(update(attrs=MANDATORY, nlri=prefix("10.203.0.0/24")))  # the sentinel, last
        sock.sendall(b"".join(out))
        time.sleep(0.5)
        wire.paused.set()
        assert wire.wait(lambda ms: any(is_end_of_rib(t, b) for t, b in ms), 30), "the table dump did not complete"
        sock.sendall(KEEPALIVE_MSG)

        def received():
            try:
                with open(lab.received) as f:
                    return {line.split()[0] for line in f}
            except FileNotFoundError:
                return set()
        end = time.time() + 15
        while "10.203.0.0/24" not in received() and time.time() < end:
            time.sleep(0.1)
        table = received()
        assert "10.203.0.0/24" in table, "the sentinel UPDATE was not taken: %s" % sorted(table)
        kept = sorted(p for p in withdraw if p in table)
        assert not kept, "treat-as-withdraw prefixes still in bgpspeak's table: %s" % kept
        lost = sorted(p for p in discard if p not in table)
        assert not lost, "attribute-discard prefixes missing from bgpspeak's table: %s" % lost
        notes = [t for t, _ in wire.messages if t == NOTIFICATION]
        assert not notes and not wire.eof, "the session was reset (NOTIFICATION or close) for an RFC 7606 case"
        dump = sum(1 for t, b in wire.messages if t == UPDATE and not is_end_of_rib(t, b))
        print("ok: %d treat-as-withdraw and %d attribute-discard UPDATEs during the dump: no NOTIFICATION, "
              "%d UPDATEs and End-of-RIB received, withdrawn ones gone, discarded ones kept"
              % (len(withdraw), len(discard), dump))
        # The session is still usable: a bad NLRI now is reset as usual.
        sock.sendall(NLRI_33)
        expect_notification(wire, 3, 10)
        print("ok: the same session then answers a /33 NLRI with NOTIFICATION 3/10")
        sock.close()
    finally:
        lab.stop()


def private_loopback():
    """Moves this process (and the bgpspeak it starts) into a network namespace of its own, whose
    TCP send buffers grow to 64 KiB at most: on the host's loopback a send buffer grows to 4 MiB
    and takes bgpspeak's whole table dump with its End-of-RIB before bgpspeak reads our bad
    message, so a dump case would test nothing. The namespace goes with the last process in it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET; needs root (CI runs as root)
        raise SystemExit("hostile_peer.py %s: cannot make a network namespace (%s): run as root"
                         % (sys.argv[2], os.strerror(ctypes.get_errno())))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with open("/proc/sys/net/ipv4/tcp_wmem", "w") as f:
        f.write("4096 16384 65536")


def main():
    if len(sys.argv) != 3 or (sys.argv[2] not in GROUPS and sys.argv[2] != "rfc7606"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[2] in ("dump", "rfc7606"):
        private_loopback()
    lab = Lab(sys.argv[1])
    failed = []
    try:
        if sys.argv[2] == "rfc7606":
            cases = [("rfc7606_keeps_the_session", None)]
        else:
            cases = [(c[0], c) for c in GROUPS[sys.argv[2]]]
        for name, case in cases:
            try:
                if case is None:
                    rfc7606_keeps_the_session(lab)
                else:
                    run_case(lab, *case, table=sys.argv[2] in ("dump", "burst"))
            except AssertionError as e:
                print("FAIL: %s: %s" % (name, e))
                failed.append(name)
        if failed:
            with open(lab.log) as f:
                print("---- bgpspeak log (tail)\n" + "".join(f.readlines()[-60:]))
    finally:
        lab.stop()
        subprocess.run(["rm", "-rf", lab.work])
    print("FAIL: %s" % ", ".join(failed) if failed else "PASS: %s" % sys.argv[2])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
