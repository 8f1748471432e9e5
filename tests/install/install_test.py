#!/usr/bin/env python3
"""install_test: gridbot installed the way an operations team installs it.

  tests/install/install_test.py BUILD_DIR WORKDIR [files|dpkg]

1. `cmake --install BUILD_DIR` into a temporary root (DESTDIR): the files are
   in their standard places (/usr/bin, /usr/share/gridbot, /etc/gridbot, the
   systemd unit), the unit file says what it must (its own user, the
   installed config, SIGTERM, a state directory), and the installed binary
   is started exactly as the unit's ExecStart starts it — only its root
   moved under the temporary directory, and the listen address and database
   put there (flags win over the config file). It must find corpus/ and
   web/ under that root (never the source tree's), log one JSON object per
   line on stdout with request ids, answer /healthz, /readyz, the web chat
   page and a Chinese turn, and stop cleanly on SIGTERM.
2. The .deb from `cpack -G DEB`: its control file (name, version, shared
   library dependencies from dpkg-shlibdeps, adduser), conffiles, maintainer
   scripts (valid sh), its file list; unpacked with dpkg-deb -x and started
   the same way.
3. (`dpkg`, the ctest dpkg_install_test) As root, on a machine where gridbot
   has never been installed (no package record, no /usr/bin/gridbot,
   /etc/gridbot or /var/lib/gridbot; otherwise it touches nothing and exits
   77, "skipped"): the .deb installed for real with `dpkg -i` (its postinst
   makes the gridbot user, the config root:gridbot 0640, /var/lib/gridbot,
   the unit enabled), `systemd-analyze verify` of the installed unit; then
   the service itself — under a running systemd the unit the postinst
   started, else the unit's ExecStart as user gridbot in /var/lib/gridbot on
   its configured database; `dpkg -r` (config and data kept), `dpkg --purge`
   (nothing left, no enable link).

Parts 1 and 2 are the default (`files`). Only Python's standard library.
Exit 0 when every check holds.
"""

import json
import os
import pathlib
import pwd
import grp
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

FAILURES = []


def check(cond, what):
    if cond:
        print("  ok  ", what)
    else:
        print("  FAIL", what)
        FAILURES.append(what)
    return cond


def run(cmd, **kw):
    print("$", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


def parse_unit(text):
    unit = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("["):
            continue
        k, _, v = line.partition("=")
        unit[k.strip()] = v.strip()
    return unit


def launch(argv, work, tag, cwd):
    """Starts `argv` (stdout and stderr into WORK/TAG.out and .err, without
    the caller's GRIDBOT_* environment) and waits for its JSON listening
    line. Returns the process, its URL (None if it never listened) and its
    "started" line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    with open(work / f"{tag}.out", "w") as out, open(work / f"{tag}.err", "w") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=str(cwd), env=env)
    url, started = None, {}
    for _ in range(600):
        time.sleep(0.05)
        for line in (work / f"{tag}.out").read_text().splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            url = obj.get("url", url)
            if obj.get("msg") == "started":
                started = obj
        if url or proc.poll() is not None:
            break
    if url is None:
        print((work / f"{tag}.err").read_text()[-2000:])
        print((work / f"{tag}.out").read_text()[-2000:])
        proc.kill()
    return proc, url, started


def stop(proc):
    """SIGTERM, then its exit status (None if it had to be killed)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return None


def start_like_the_unit(root, exec_start, work, tag):
    """ExecStart with its absolute paths under `root`; the listen address and
    the database moved into `work`."""
    rooted = [str(root) + a if a.startswith("/") else a for a in shlex.split(exec_start)]
    rooted += ["--listen", "127.0.0.1:0", "--db", str(work / f"{tag}.db"), "--access-log", "on"]
    return launch(rooted, work, tag, work)


def exercise(root, work, tag, exec_start):
    """The installed service, started as its unit starts it."""
    print(f"-- {tag}: the installed binary, started as the unit starts it")
    proc, url, _ = start_like_the_unit(root, exec_start, work, tag)
    if not check(url is not None, f"{tag}: it starts and logs where it listens (JSON)"):
        return
    try:
        status, _, body = http("GET", url + "/healthz")
        check(status == 200, f"{tag}: /healthz 200")
        status, _, body = http("GET", url + "/readyz")
        ready = json.loads(body) if status in (200, 503) else {}
        check(status == 200 and ready.get("status") == "ready"
              and ready.get("schema_version") == ready.get("schema_latest"),
              f"{tag}: /readyz 200, schema current ({body.strip()})")
        status, _, body = http("GET", url + "/")
        check(status == 200 and "<html" in body.lower(), f"{tag}: the web chat page is served")
        status, headers, body = http(
            "POST", url + "/api/chat",
            json.dumps({"user": "install-1", "text": "你好，你能做什么"}).encode(),
            {"Content-Type": "application/json", "X-Request-Id": "install-req-1"})
        reply = json.loads(body) if status == 200 else {}
        texts = " ".join(r.get("text", "") for r in reply.get("replies", []))
        check(status == 200 and re.search(r"[\u4e00-\u9fff]", texts) is not None,
              f"{tag}: a turn is answered in Chinese ({texts[:40]}…)")
        check(headers.get("X-Request-Id") == "install-req-1",
              f"{tag}: the client's X-Request-Id is echoed")
        status, headers, _ = http("GET", url + "/healthz", headers={"X-Request-Id": "bad id; rm -rf"})
        check(re.fullmatch(r"[0-9a-f]{16}", headers.get("X-Request-Id", "")) is not None,
              f"{tag}: an unusable X-Request-Id is replaced by a new one")
        status, _, body = http("GET", url + "/api/chat")
        check(status == 405, f"{tag}: a wrong method is a 4xx, not a 500")
    finally:
        rc = stop(proc)
    check(rc == 0, f"{tag}: SIGTERM stops it cleanly (exit {rc})")
    lines = (work / f"{tag}.out").read_text().splitlines()
    objs = []
    for line in lines:
        try:
            objs.append(json.loads(line))
        except ValueError:
            check(False, f"{tag}: stdout line is JSON: {line[:80]}")
    check(lines and len(objs) == len(lines), f"{tag}: every stdout line is one JSON object")
    started = next((o for o in objs if o.get("msg") == "started"), {})
    share = str(root / "usr/share/gridbot")
    check(started.get("corpus") == share + "/corpus" and started.get("web") == share + "/web",
          f"{tag}: corpus/ and web/ found under the installed root "
          f"({started.get('corpus')}, {started.get('web')})")
    check(all({"ts", "level", "msg"} <= o.keys() for o in objs), f"{tag}: lines have ts, level, msg")
    access = [o for o in objs if o.get("msg") == "request" and o.get("request_id") == "install-req-1"]
    check(len(access) == 1 and access[0].get("path") == "/api/chat" and access[0].get("status") == 200,
          f"{tag}: the access line carries the request id, path and status")


def main():
    build = pathlib.Path(sys.argv[1]).resolve()
    work = pathlib.Path(sys.argv[2]).resolve()
    part = sys.argv[3] if len(sys.argv) > 3 else "files"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if part == "dpkg":
        return dpkg_install(make_deb(build, work), work)

    # 1. cmake --install into a temporary root.
    print("-- cmake --install into a temporary root")
    root = work / "root"
    run(["cmake", "--install", str(build)], env={**os.environ, "DESTDIR": str(root)})
    for rel in ["usr/bin/gridbot", "usr/share/gridbot/corpus/nlu/intents.rules",
                "usr/share/gridbot/corpus/replies", "usr/share/gridbot/web/chat/index.html",
                "usr/share/gridbot/web/agent/index.html", "usr/share/gridbot/web/analytics/index.html", "usr/lib/systemd/system/gridbot.service",
                "etc/gridbot/gridbot.conf", "usr/share/doc/gridbot/README.md"]:
        check((root / rel).exists(), f"installed: /{rel}")
    conf_mode = (root / "etc/gridbot/gridbot.conf").stat().st_mode & 0o777
    check(conf_mode & 0o007 == 0, f"/etc/gridbot/gridbot.conf is not world-readable ({oct(conf_mode)})")
    unit = parse_unit((root / "usr/lib/systemd/system/gridbot.service").read_text())
    check(unit.get("User") == "gridbot" and unit.get("Group") == "gridbot", "unit: runs as user gridbot")
    exec_start = unit.get("ExecStart", "")
    check(exec_start.startswith("/usr/bin/gridbot serve ") and "--config /etc/gridbot/gridbot.conf" in exec_start,
          f"unit: ExecStart runs the installed binary with the installed config ({exec_start})")
    check(unit.get("StateDirectory") == "gridbot" and unit.get("KillSignal") == "SIGTERM"
          and unit.get("WantedBy") == "multi-user.target", "unit: state directory, SIGTERM, multi-user")
    conf = (root / "etc/gridbot/gridbot.conf").read_text()
    check(re.search(r"^log-format = json$", conf, re.M) and re.search(r"^db = /var/lib/gridbot/", conf, re.M),
          "config: JSON logs, database in the state directory")
    exercise(root, work, "install", exec_start)
    mdb = work / "migrate" / "m.db"
    first = run([str(root / "usr/bin/gridbot"), "migrate", "--db", str(mdb)]).stdout
    again = run([str(root / "usr/bin/gridbot"), "migrate", "--db", str(mdb)]).stdout
    check("a new database" in first and "current" in again,
          f"gridbot migrate: a new database, then current ({first.strip()} / {again.strip()})")

    # 2. The .deb.
    print("-- the .deb (cpack -G DEB)")
    deb = make_deb(build, work)
    if deb is None:
        return 1
    info = run(["dpkg-deb", "-f", str(deb)]).stdout
    fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", info, re.M))
    check(fields.get("Package") == "gridbot", "control: Package gridbot")
    depends = fields.get("Depends", "")
    for lib in ["libicu72", "libre2", "libsqlite3", "libssl3", "libpugixml", "adduser"]:
        check(lib in depends, f"control: depends on {lib}")
    ctrl = work / "control"
    run(["dpkg-deb", "-e", str(deb), str(ctrl)])
    check((ctrl / "conffiles").read_text().split() == ["/etc/gridbot/gridbot.conf"],
          "conffiles: /etc/gridbot/gridbot.conf")
    for script in ["postinst", "prerm", "postrm"]:
        s = ctrl / script
        ok = s.exists() and os.access(s, os.X_OK) and subprocess.run(["sh", "-n", str(s)]).returncode == 0
        check(ok, f"maintainer script {script}: executable, valid sh")
    listing = run(["dpkg-deb", "-c", str(deb)]).stdout
    for path in ["./usr/bin/gridbot", "./usr/share/gridbot/corpus/", "./usr/share/gridbot/web/chat/index.html",
                 "./usr/lib/systemd/system/gridbot.service", "./etc/gridbot/gridbot.conf"]:
        check(path in listing, f".deb holds {path}")
    check(not re.search(r" \./(home|tmp|work|root)/", listing), ".deb holds nothing outside standard places")
    unpacked = work / "deb-root"
    run(["dpkg-deb", "-x", str(deb), str(unpacked)])
    deb_unit = parse_unit((unpacked / "usr/lib/systemd/system/gridbot.service").read_text())
    check(deb_unit.get("ExecStart") == "/usr/bin/gridbot serve --config /etc/gridbot/gridbot.conf",
          f"the .deb's unit runs /usr/bin/gridbot with /etc/gridbot/gridbot.conf ({deb_unit.get('ExecStart')})")
    exercise(unpacked, work, "deb", deb_unit.get("ExecStart", exec_start))

    print("install_test:", "FAILED: " + "; ".join(FAILURES) if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


SKIP = 77  # CTest's SKIP_RETURN_CODE of dpkg_install_test


def make_deb(build, work):
    pkgdir = work / "pkg"
    pkgdir.mkdir()
    run(["cpack", "-G", "DEB", "--config", str(build / "CPackConfig.cmake"), "-B", str(pkgdir)])
    debs = sorted(pkgdir.glob("gridbot_*.deb"))
    if not check(len(debs) == 1, f"one .deb built ({[d.name for d in debs]})"):
        return None
    return debs[0]


def dpkg_install(deb, work):
    """3. The .deb installed for real, removed, purged."""
    if deb is None:
        return 1
    print("-- dpkg -i / -r / --purge on this machine")
    if os.geteuid() != 0:
        print("dpkg_install_test: needs root (the README's test command runs as root): skipped")
        return SKIP
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "gridbot"], capture_output=True,
                            text=True).stdout.strip()
    traces = [p for p in ["/usr/bin/gridbot", "/etc/gridbot", "/var/lib/gridbot"] if os.path.exists(p)]
    if (status and "not-installed" not in status) or traces:
        # A real installation (or one removed with its data kept): never touched.
        print(f"dpkg_install_test: gridbot is on this machine already ({status or 'no package'}; "
              f"{', '.join(traces) or 'no files'}): skipped, nothing touched")
        return SKIP
    wants = pathlib.Path("/etc/systemd/system/multi-user.target.wants/gridbot.service")
    systemd_runs = os.path.isdir("/run/systemd/system")
    try:
        r = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True)
        check(r.returncode == 0, f"dpkg -i {deb.name} ({r.stderr.strip()[-300:]})")
        check(pwd.getpwnam("gridbot") is not None, "postinst: user gridbot exists")
        st = os.stat("/etc/gridbot/gridbot.conf")
        check(st.st_uid == 0 and grp.getgrgid(st.st_gid).gr_name == "gridbot"
              and (st.st_mode & 0o777) == 0o640, "postinst: config root:gridbot 0640")
        st = os.stat("/var/lib/gridbot")
        check(pwd.getpwuid(st.st_uid).pw_name == "gridbot" and (st.st_mode & 0o777) == 0o750,
              "postinst: /var/lib/gridbot gridbot 0750")
        check(wants.is_symlink(), "postinst: the unit is enabled (multi-user.target.wants)")
        v = subprocess.run(["systemd-analyze", "verify", "/usr/lib/systemd/system/gridbot.service"],
                           capture_output=True, text=True)
        said = (v.stdout + v.stderr).strip()
        check(v.returncode == 0 and "gridbot.service" not in said,
              f"systemd-analyze verify gridbot.service ({said[:300]})")
        unit = parse_unit(pathlib.Path("/usr/lib/systemd/system/gridbot.service").read_text())
        if systemd_runs:
            # A real systemd: the postinst started the unit itself.
            ok = False
            for _ in range(100):
                try:
                    ok = http("GET", "http://127.0.0.1:8080/readyz")[0] == 200
                except OSError:
                    ok = False
                if ok:
                    break
                time.sleep(0.2)
            check(ok, "systemd started gridbot.service and /readyz is 200")
        else:
            run_installed(work, unit["ExecStart"])
        r = subprocess.run(["dpkg", "-r", "gridbot"], capture_output=True, text=True)
        check(r.returncode == 0 and not os.path.exists("/usr/bin/gridbot"), "dpkg -r removes the binary")
        check(os.path.exists("/etc/gridbot/gridbot.conf") and os.path.exists("/var/lib/gridbot/gridbot.db"),
              "dpkg -r keeps the config and the database")
    finally:
        r = subprocess.run(["dpkg", "--purge", "gridbot"], capture_output=True, text=True)
    check(r.returncode == 0, f"dpkg --purge ({r.stderr.strip()[-300:]})")
    gone = [p for p in ["/usr/bin/gridbot", "/etc/gridbot", "/var/lib/gridbot"] if os.path.exists(p)]
    check(not gone, f"dpkg --purge leaves nothing behind ({gone})")
    check(not wants.is_symlink() and not wants.exists(), "dpkg --purge leaves no enable link")
    print("dpkg_install_test:", "FAILED: " + "; ".join(FAILURES) if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


def run_installed(work, exec_start):
    """No systemd here: the unit's ExecStart as its User= would run it, in its
    WorkingDirectory, on the configured database (/var/lib/gridbot); only the
    listen address moved to a free port. setpriv execs it, so SIGTERM reaches
    gridbot itself."""
    print("-- the unit's command as user gridbot in /var/lib/gridbot")
    argv = ["setpriv", "--reuid=gridbot", "--regid=gridbot", "--init-groups"] + \
        shlex.split(exec_start) + ["--listen", "127.0.0.1:0"]
    proc, url, started = launch(argv, work, "svc", "/var/lib/gridbot")
    if not check(url is not None, "the service starts as gridbot from its unit's command"):
        return
    check(started.get("corpus") == "/usr/share/gridbot/corpus" and
          started.get("db") == "/var/lib/gridbot/gridbot.db",
          f"corpus from /usr/share/gridbot, database in /var/lib/gridbot ({started})")
    status, _, body = http("POST", url + "/api/chat", json.dumps({"user": "d1", "text": "停电了"}).encode(),
                           {"Content-Type": "application/json"})
    check(status == 200 and "replies" in body, "a turn is answered")
    check(http("GET", url + "/readyz")[0] == 200, "/readyz 200")
    rc = stop(proc)
    check(rc == 0, f"SIGTERM stops it cleanly (exit {rc})")
    st = os.stat("/var/lib/gridbot/gridbot.db")
    check(pwd.getpwuid(st.st_uid).pw_name == "gridbot", "the database belongs to gridbot")


if __name__ == "__main__":
    sys.exit(main())
