"""test_one_server.py: one `gatehouse serve` per data directory and per address.

The listeners use reuseport, so without a guard a second server on the same
data directory or port started beside the first and the kernel split the
connections between them. Each test starts a real server, then a second
`serve` that must be refused with a clear message and a non-zero exit, while
the first goes on serving untouched (its pid file, its nginx.conf, its
sessions). The lock must also outlive a kill -9 of the master alone, whose
workers still hold the port.
"""

import os
import re
import signal
import socket
import subprocess

import gatehouse_harness as H


def serve(gh, listen, http_listen="none", *extra, timeout=20):
    """A second `gatehouse serve` on gh's data directory and configuration,
    expected to stop by itself. One that is still running after timeout
    seconds started: its whole process group is killed and the test fails."""
    cmd = [str(H.GATEHOUSE), "serve", "--data-dir", str(gh.data),
           "--config", str(gh.config_path), "--listen", listen,
           "--http-listen", http_listen, *extra]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=gh.env(gh.data),
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
        assert H.wait_until(lambda: not H.pgroup_members(proc.pid), 10) is not None
        raise AssertionError(f"a second serve ({' '.join(cmd[2:])}) started beside the "
                             f"first:\n{err[-2000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_files(gh):
    """The run files the first server owns: its pid file and its nginx.conf."""
    run = gh.data / "run"
    return {name: (run / name).read_bytes() for name in ("nginx.pid", "nginx.conf")}


def assert_still_serving(gh, token):
    """gh answers, and a token it made works on fresh connection after fresh
    connection (two servers on one port would fail about half of them)."""
    for _ in range(20):
        r = gh.get("/redfish/v1/Systems", headers={"X-Auth-Token": token})
        assert r.status_code == 200, r.text
    assert gh.proc.poll() is None


def test_second_serve_on_the_same_data_dir_is_refused(fresh):
    gh = fresh
    token, _, _, _ = gh.login()
    before = run_files(gh)
    assert before["nginx.pid"].decode().strip() == str(gh.proc.pid)
    other = H.free_port()
    p = serve(gh, f"127.0.0.1:{other}")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert p.stderr.startswith("gatehouse: "), p.stderr
    assert f"{gh.data} is already being served (nginx master pid {gh.proc.pid}, " \
           f"https://127.0.0.1:{gh.port}/)" in p.stderr, p.stderr
    assert "one server per data directory" in p.stderr and "--data-dir" in p.stderr
    assert not listening(other)
    # --check would rewrite the running server's nginx.conf: refused the same way
    p = serve(gh, f"127.0.0.1:{other}", "none", "--check")
    assert p.returncode == 1 and "is already being served" in p.stderr, p.stderr
    assert run_files(gh) == before
    assert_still_serving(gh, token)
    # Stopped, the first server gives the directory up: it starts again.
    gh.restart()
    assert gh.login()[0]


def test_second_serve_on_the_same_port_is_refused(make_server):
    first = make_server()
    token, _, _, _ = first.login()
    before = run_files(first)
    second = make_server(start=False)
    p = serve(second, f"127.0.0.1:{first.port}")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert re.search(rf"^gatehouse: listen 127\.0\.0\.1:{first.port} is already in use: "
                     r"another server \(another gatehouse serve\?\) listens there; stop it, "
                     r"or choose another address with --listen$", p.stderr, re.M), p.stderr
    p = serve(second, f"127.0.0.1:{second.port}", f"127.0.0.1:{first.http_port}")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert f"http-listen 127.0.0.1:{first.http_port} is already in use" in p.stderr, p.stderr
    assert "--http-listen" in p.stderr
    # the metrics listener's address too (its own: the second's metrics port is free)
    p = serve(second, f"127.0.0.1:{second.port}", "none", "--metrics-listen",
              f"127.0.0.1:{first.metrics_port}")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert f"metrics-listen 127.0.0.1:{first.metrics_port} is already in use" in p.stderr, \
        p.stderr
    assert "--metrics-listen" in p.stderr
    # the wildcard address covers loopback: refused as well
    p = serve(second, f"*:{first.port}")
    assert p.returncode == 1 and "is already in use" in p.stderr, p.stderr
    # The refused server left nothing running and no pid file of its own; the
    # first's are untouched and it still serves every connection.
    assert not (second.data / "run" / "nginx.pid").exists()
    assert not listening(second.port)
    assert run_files(first) == before
    assert_still_serving(first, token)
    # On ports of its own the second server starts.
    second.start()
    assert second.login()[0]


def test_the_lock_outlives_a_killed_master(fresh):
    gh = fresh
    token, _, _, _ = gh.login()
    workers = gh.worker_pids()
    assert workers, "no nginx worker found"
    master = gh.proc.pid
    os.kill(master, signal.SIGKILL)     # the master alone: its workers go on
    gh.proc.wait(10)
    assert set(workers) <= set(H.pgroup_members(master))
    p = serve(gh, f"127.0.0.1:{H.free_port()}")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert f"master (pid {master}) is gone" in p.stderr, p.stderr
    held_by = [int(x) for x in re.search(r"\(pids:([\d ]+)\)", p.stderr).group(1).split()]
    assert set(held_by) <= set(workers) and held_by, (held_by, workers)
    # Once the workers are gone too, the directory is free again.
    gh.kill9()
    gh.start()
    assert gh.get("/redfish/v1/Systems", headers={"X-Auth-Token": token}).status_code == 200
