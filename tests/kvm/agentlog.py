#!/usr/bin/env python3
"""Reads `memvisor agent --json-log` files for the tests in tests/kvm/
(docs/agent.md, "The JSON log"). Prints one result a line, "ok: ...",
"FAIL: ..." or "note: ...", that the shell test passes on to lib.sh's
ok/bad/note.

usage: agentlog.py CHECK LOG [ARGS...]
  guests LOG IDLE BUSY RESV RESV_KIB BUSY_STOP_T
        test_agent_guests.sh: the idle guest ballooned first, RESV never
        below RESV_KIB, memory given back (a deflation) after the wall time
        BUSY_STOP_T (the busy guest stopped); reaction times
  shares LOG LOW HIGH
        LOW (fewer shares) gives more than HIGH while both are busy
  dryrun LOG
        pressure seen, changes proposed, none applied
  reconnect LOG T_KILL
        connection-lost after T_KILL, reconnected, then a decision applied
  restore LOG
        no ksm-failed, ksm-restore-failed, restore-failed; the KSM events
Guest arguments are libvirt domain names.
"""
import json
import sys

PRESSURE = ("soft", "hard", "low")


def load(path):
    lines = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def decisions(log, guest=None):
    return [r for r in log if "event" not in r and
            (guest is None or r["guest"] == guest)]


def events(log, name):
    return [r for r in log if r.get("event") == name]


def say(kind, msg):
    print("%s: %s" % (kind, msg))


def mib(kib):
    return kib / 1024.0


def first(seq, pred):
    for r in seq:
        if pred(r):
            return r
    return None


def check_guests(log, idle, busy, resv, resv_kib, t_stop):
    resv_kib = int(resv_kib)
    t_stop = float(t_stop)
    d = decisions(log)
    if not d:
        say("FAIL", "no decision line in the log")
        return
    t0 = d[0]["t"]
    # reaction: the first interval under pressure, the first applied change,
    # the balloon seen at that target, and the pressure relieved
    p = first(d, lambda r: r["state"] in PRESSURE)
    if p is None:
        say("FAIL", "the host was never under pressure (state soft or worse)")
        return
    say("ok", "pressure from interval %d (state %s, host free %.0f of %.0f MiB)"
        % (p["interval"], p["state"], mib(p["host_free_kib"]),
           mib(p["host_total_kib"])))
    c = first(d, lambda r: r["t"] >= p["t"] and r["applied"])
    if c is None:
        say("FAIL", "no balloon change applied under pressure")
        return
    ci = first(d, lambda r: r["guest"] == idle and r["applied"])
    cb = first(d, lambda r: r["guest"] == busy and r["applied"] and
               r["target_kib"] < r["actual_kib"])
    early = ci is not None and (cb is None or ci["interval"] <= cb["interval"])
    say("ok" if early else "FAIL",
        "the idle guest's balloon first changed at interval %s, the busy "
        "guest's at %s; the first setmem %.1f s after the first interval "
        "under pressure: %s %.0f -> %.0f MiB (reason %s)"
        % (ci and ci["interval"], cb and cb["interval"], c["t"] - p["t"],
           c["guest"].rsplit("-", 1)[-1], mib(c["actual_kib"]),
           mib(c["target_kib"]), c["reason"]))
    seen = first(d, lambda r: r["guest"] == c["guest"] and
                 r["t"] > c["t"] and
                 abs(r["actual_kib"] - c["target_kib"]) <= 1024)
    if seen:
        say("note", "reaction: pressure to the first setmem %.1f s, to the "
            "balloon at that target (dommemstat actual) %.1f s"
            % (c["t"] - p["t"], seen["t"] - p["t"]))
    relief = first(d, lambda r: r["t"] > c["t"] and
                   r["state"] not in PRESSURE)
    if relief:
        say("note", "reaction: pressure to the state back at %s (the agent's "
            "target reached) %.1f s, interval %d"
            % (relief["state"], relief["t"] - p["t"], relief["interval"]))
    else:
        say("note", "the state never left the pressure states")
    # while the busy guest is busy: the idle guest gives first and more
    before = [r for r in d if r["t"] < t_stop]
    ib = [r for r in before if r["guest"] == idle]
    bb = [r for r in before if r["guest"] == busy]
    if ib and bb:
        gi = ib[0]["actual_kib"] - min(r["actual_kib"] for r in ib)
        gb = bb[0]["actual_kib"] - min(r["actual_kib"] for r in bb)
        say("ok" if gi > gb else "FAIL",
            "while %s was busy the idle guest gave %.0f MiB, the busy one "
            "%.0f MiB" % ("the busy guest", mib(gi), mib(gb)))
    # the reservation
    rr = decisions(log, resv)
    low = min((r["actual_kib"] for r in rr), default=None)
    lowt = min((r["target_kib"] for r in rr), default=None)
    if low is None:
        say("FAIL", "no line for the reserved guest")
    else:
        bad = low < resv_kib or lowt < resv_kib
        say("FAIL" if bad else "ok",
            "the reserved guest's actual went no lower than %.0f MiB, its "
            "target no lower than %.0f MiB (reservation %.0f MiB, "
            "reservation_kib in the log %s)" % (mib(low), mib(lowt),
                                                  mib(resv_kib),
                                                  rr[0]["reservation_kib"]))
    held = [r for r in rr if r["reason"] == "reservation"]
    if held:
        say("note", "the reservation held the reserved guest in %d intervals "
            "(reason reservation, first at interval %d)"
            % (len(held), held[0]["interval"]))
    # memory given back after the busy guest stopped
    after = [r for r in d if r["t"] >= t_stop]
    g = first(after, lambda r: r["applied"] and
              r["target_kib"] > r["actual_kib"])
    if g:
        say("ok", "memory given back after the busy guest stopped: %s "
            "%.0f -> %.0f MiB, %.1f s after it stopped (reason %s)"
            % (g["guest"], mib(g["actual_kib"]), mib(g["target_kib"]),
               g["t"] - t_stop, g["reason"]))
    else:
        say("FAIL", "no balloon deflated after the busy guest stopped")
    for name in (idle, busy, resv):
        rs = decisions(log, name)
        if rs:
            say("note", "%s: actual %.0f -> min %.0f -> last %.0f MiB; "
                "active %.2f -> %.2f (%s)"
                % (name.rsplit("-", 1)[-1], mib(rs[0]["actual_kib"]),
                   mib(min(r["actual_kib"] for r in rs)),
                   mib(rs[-1]["actual_kib"]), rs[0]["active"],
                   rs[-1]["active"], rs[-1]["active_source"]))
    say("note", "log: %d intervals over %.0f s" % (d[-1]["interval"],
                                                   d[-1]["t"] - t0))


def check_shares(log, lo, hi):
    d = decisions(log)
    rl = [r for r in d if r["guest"] == lo]
    rh = [r for r in d if r["guest"] == hi]
    if not rl or not rh:
        say("FAIL", "no lines for both guests")
        return
    if not first(d, lambda r: r["state"] in PRESSURE):
        say("FAIL", "the host was never under pressure")
        return
    gl = rl[0]["actual_kib"] - min(r["actual_kib"] for r in rl)
    gh = rh[0]["actual_kib"] - min(r["actual_kib"] for r in rh)
    say("ok" if gl > gh else "FAIL",
        "both busy (active %.2f and %.2f): the guest with %d shares gave "
        "%.0f MiB, the one with %d shares %.0f MiB"
        % (rl[-1]["active"], rh[-1]["active"], rl[0]["shares"], mib(gl),
           rh[0]["shares"], mib(gh)))


def check_dryrun(log):
    d = decisions(log)
    if not d:
        say("FAIL", "no decision line")
        return
    if not first(d, lambda r: r["state"] in PRESSURE):
        say("FAIL", "no pressure during the dry run")
    prop = [r for r in d if r["change"]]
    appl = [r for r in d if r["applied"]]
    say("ok" if prop else "FAIL",
        "dry run: %d changes proposed under pressure" % len(prop))
    say("ok" if not appl and all(r["dry_run"] for r in d) else "FAIL",
        "dry run: %d applied" % len(appl))
    if events(log, "ksm"):
        say("FAIL", "dry run wrote KSM")


def check_reconnect(log, t_kill):
    t_kill = float(t_kill)
    lost = first(log, lambda r: r.get("event") == "connection-lost" and
                 r["t"] >= t_kill)
    if not lost:
        say("FAIL", "no connection-lost event after libvirtd was killed")
        return
    say("ok", "connection-lost %.1f s after the kill: %s"
        % (lost["t"] - t_kill, lost.get("message", "")))
    back = first(log, lambda r: r.get("event") == "reconnected" and
                 r["t"] > lost["t"])
    if not back:
        say("FAIL", "never reconnected")
        return
    fails = [r for r in log if r.get("event") == "reconnect-failed" and
             lost["t"] <= r["t"] <= back["t"]]
    say("ok", "reconnected %.1f s after the loss (%d failed attempts)"
        % (back["t"] - lost["t"], len(fails)))
    after = [r for r in decisions(log) if r["t"] >= back["t"]]
    dec = first(after, lambda r: r["applied"])
    n = len(set(r["guest"] for r in after))
    say("ok" if after else "FAIL",
        "after reconnecting: %d decision lines for %d guests" % (len(after),
                                                                   n))
    if dec:
        say("ok", "a balloon change applied after the restart: %s %.0f -> "
            "%.0f MiB" % (dec["guest"].rsplit("-", 1)[-1],
                          mib(dec["actual_kib"]), mib(dec["target_kib"])))
    else:
        say("note", "no balloon change needed after the restart")


def check_restore(log):
    bad = [r for r in log if r.get("event") in ("ksm-restore-failed",
                                                "restore-failed",
                                                "ksm-failed")]
    say("FAIL" if bad else "ok", "restore: %d failures logged" % len(bad))
    k = events(log, "ksm")
    if k:
        say("ok", "the agent tuned KSM %d times (last: %s)"
            % (len(k), k[-1]["message"]))
    else:
        say("note", "the agent never tuned KSM")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    check, log = sys.argv[1], load(sys.argv[2])
    fn = {"guests": check_guests, "shares": check_shares,
          "dryrun": check_dryrun, "reconnect": check_reconnect,
          "restore": check_restore}.get(check)
    if fn is None:
        sys.exit("agentlog: unknown check '%s'" % check)
    fn(log, *sys.argv[3:])


main()
